from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from networks.selectors import cluster_list
from networks.services.errors import ServiceError

from .selectors import api_token_list
from .services import api_token_create, api_token_revoke


@login_required
def home(request):
    memberships = request.user.memberships.select_related("tenant")
    tenants = [m.tenant for m in memberships]
    clusters = [cluster for tenant in tenants for cluster in cluster_list(tenant=tenant)]
    return render(request, "portal/home.html", {"memberships": memberships, "clusters": clusters})


def healthz(request):
    return JsonResponse({"status": "ok"})


@login_required
def tokens(request):
    """The user's API tokens: make one (its key is shown on this answer only) or revoke one."""
    new_key, error = None, None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token_id = request.POST.get("token", "")
            token = get_object_or_404(api_token_list(user=request.user), pk=token_id if token_id.isdigit() else 0)
            api_token_revoke(token=token)
            messages.success(request, f"Token {token.name} is revoked; scripts using it now get 401.")
            return redirect("tokens")
        try:
            _, new_key = api_token_create(user=request.user, name=request.POST.get("name", ""))
        except ServiceError as exc:
            error = exc.message
    return render(
        request,
        "portal/tokens.html",
        {"tokens": api_token_list(user=request.user), "new_key": new_key, "error": error, "here": "tokens"},
        status=400 if error else 200,
    )
