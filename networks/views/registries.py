"""The team's logins to private registries: every member sees which there are, owners add, replace
and remove them. A password goes in once and never comes back out, not even into a form with an error."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from networks.forms.registries import RegistryLoginForm
from networks.selectors.registries import registry_login_get, registry_login_list
from networks.services.registries import OWNERS_ONLY, registry_login_remove, registry_login_set
from plumbing.forms import submit
from portal.actors import Actor
from portal.tenancy import require_manage, tenant_required


@tenant_required
@require_http_methods(["GET", "POST"])
def registry_login_list_view(request):
    form = RegistryLoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_manage(request, OWNERS_ONLY)
        login, status = submit(
            form,
            lambda data: registry_login_set(
                actor=Actor.of(request),
                tenant=request.tenant,
                registry=data["registry"],
                username=data["username"],
                password=data["password"],
            ),
        )
        if login is not None:
            messages.success(
                request, f"Runs of images from {login.registry} now log in as {login.username}. The password is sealed."
            )
            return redirect("networks:registry_login_list")
    context = {"form": form, "logins": registry_login_list(tenant=request.tenant)}
    return render(request, "networks/registry_login_list.html", context, status=status)


@tenant_required
@require_POST
def registry_login_remove_view(request, pk: int):
    require_manage(request, OWNERS_ONLY)
    login = registry_login_get(tenant=request.tenant, pk=pk)
    registry_login_remove(actor=Actor.of(request), login=login)
    messages.success(
        request, f"The login to {login.registry} is removed: images from it are pulled without one from now on."
    )
    return redirect("networks:registry_login_list")
