from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from plumbing.errors import ServiceError
from plumbing.forms import submit
from plumbing.inputs import parse_id
from plumbing.live import paginate

from .actors import Actor
from .api.serializers import AuditEntrySerializer
from .audit import audit_csv
from .filters import AuditEntryFilterSet
from .forms import ApiTokenForm, MembershipAddForm
from .models import Membership
from .selectors import (
    api_token_manageable,
    api_token_manageable_get,
    api_token_teams,
    audit_entry_list,
    membership_get,
    membership_list,
)
from .services import api_token_create, api_token_revoke, membership_add, membership_remove, membership_role_change
from .tenancy import require_manage, tenant_required, tenant_switch


class PortalLoginView(auth_views.LoginView):
    """Django's login page, with "Sign in with <provider>" above the local form when single sign-on is on."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso"] = {"enabled": settings.OIDC_ENABLED, "label": settings.OIDC_LABEL}
        context["staff_only"] = settings.OIDC_ENABLED and settings.LOCAL_LOGIN == "staff-only"
        return context


@login_required
@require_POST
def tenant_switch_view(request):
    membership = tenant_switch(request, tenant_id=parse_id(request.POST.get("tenant", "")) or 0)
    messages.success(
        request, f"You are now working in {membership.tenant.name} as {membership.get_role_display().lower()}."
    )
    return redirect(_page_after_switch(request, request.POST.get("next", "")))


def _page_after_switch(request, target: str) -> str:
    """Stay on the same page, unless it shows one object: the previous team's objects are 404s here."""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        try:
            match = resolve(urlsplit(target).path)
        except Resolver404:
            match = None
        if match is not None and not match.kwargs:
            return urlsplit(target).path
    return reverse("networks:dashboard")


@tenant_required
def members(request):
    """Who is in the team and with which role; owners add people, change roles and remove them."""
    form = MembershipAddForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_manage(request)
        added, status = submit(
            form, lambda data: membership_add(actor=Actor.of(request), tenant=request.tenant, **data)
        )
        if added is not None:
            messages.success(
                request, f"{added.user.username} joined {request.tenant.name} as {added.get_role_display().lower()}."
            )
            return redirect("members")
    context = {"form": form, "memberships": membership_list(tenant=request.tenant), "roles": Membership.Role.choices}
    return render(request, "portal/members.html", context, status=status)


@tenant_required
@require_POST
def membership_update(request, pk: int):
    require_manage(request)
    membership = membership_get(tenant=request.tenant, pk=pk)
    try:
        if request.POST.get("action") == "remove":
            membership_remove(actor=Actor.of(request), membership=membership)
            messages.success(request, f"{membership.user.username} is no longer in {request.tenant.name}.")
        else:
            membership_role_change(actor=Actor.of(request), membership=membership, role=request.POST.get("role", ""))
            messages.success(request, f"{membership.user.username} is now {membership.get_role_display().lower()}.")
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("members")


def healthz(request):
    return JsonResponse({"status": "ok"})


@login_required
def tokens(request):
    """The user's API tokens and their teams' (for owners): make one (its key is shown on this answer
    only) or revoke one; tokens that stop working within a week are named at the top."""
    form_options = {
        "teams": api_token_teams(user=request.user),
        "max_days": settings.API_TOKEN_MAX_DAYS,
        "default_days": settings.API_TOKEN_DEFAULT_DAYS,
    }
    new_key, form, status = None, ApiTokenForm(**form_options), 200
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token = api_token_manageable_get(user=request.user, pk=parse_id(request.POST.get("token")) or 0)
            try:
                api_token_revoke(actor=Actor.of(request), token=token, tenant=request.tenant)
            except ServiceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"Token {token.name} is revoked; scripts using it now get 401.")
            return redirect("tokens")
        form = ApiTokenForm(request.POST, **form_options)
        created, status = submit(
            form,
            lambda data: api_token_create(
                actor=Actor.of(request),
                user=request.user,
                name=data["name"],
                tenant=request.tenant,
                team=data.get("team"),
                role=data.get("role", "") if data.get("team") else "",
                expires=data["expires"],
                read_only=data["read_only"],
            ),
        )
        if created is not None:
            _, new_key = created
            form = ApiTokenForm(**form_options)  # the next token starts from an empty name
    context = {
        "tokens": api_token_manageable(user=request.user).filter(tenant__isnull=True),
        "team_tokens": api_token_manageable(user=request.user)
        .filter(tenant__isnull=False)
        .order_by("tenant__name", "-created"),
        "new_key": new_key,
        "form": form,
        "here": "tokens",
    }
    return render(request, "portal/tokens.html", context, status=status)


def _audit_filterset(request) -> AuditEntryFilterSet:
    require_manage(request)
    entries = audit_entry_list(tenant=request.tenant)
    return AuditEntryFilterSet(request.GET, queryset=entries, tenant=request.tenant)


@tenant_required
@require_GET
def audit(request):
    """The team's audit log for its owners: who changed what, when and from where."""
    filterset = _audit_filterset(request)
    context = {"filterset": filterset, "page": paginate(request, filterset.qs), "export": request.GET.urlencode()}
    return render(request, "portal/audit.html", context, status=200 if filterset.is_valid() else 400)


@tenant_required
@require_GET
def audit_export(request):
    """The filtered log as CSV, the same file as the API's export."""
    filterset = _audit_filterset(request)
    response = HttpResponse(
        audit_csv(AuditEntrySerializer(filterset.qs, many=True).data), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response
