from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

from networks.selectors import cluster_list


@login_required
def home(request):
    memberships = request.user.memberships.select_related("tenant")
    tenants = [m.tenant for m in memberships]
    clusters = [cluster for tenant in tenants for cluster in cluster_list(tenant=tenant)]
    return render(request, "portal/home.html", {"memberships": memberships, "clusters": clusters})


def healthz(request):
    return JsonResponse({"status": "ok"})
