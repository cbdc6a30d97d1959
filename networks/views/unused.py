"""The team's unused networks: the preview of what a removal takes (ticked by default), and the removal
of the networks ticked, one operation each."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render

from networks.selectors.networks import network_unused_list
from networks.services.networks.unused import UNUSED_REMOVE_MAX, check_days, networks_remove_unused
from plumbing.errors import ServiceError
from plumbing.inputs import parse_id
from portal.actors import Actor
from portal.tenancy import require_change, tenant_required

DAY_CHOICES = (7, 30, 90, 180)


def _days(request) -> int:
    raw = request.GET.get("days") or request.POST.get("days") or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else settings.UNUSED_NETWORK_DAYS


@tenant_required
def network_unused_view(request):
    days = _days(request)
    if request.method == "POST":
        require_change(request)
        chosen = [pk for pk in (parse_id(raw) for raw in request.POST.getlist("networks")) if pk is not None]
        try:
            result = networks_remove_unused(
                actor=Actor.of(request), tenant=request.tenant, network_ids=chosen, days=check_days(days)
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            if result.removed:
                names = ", ".join(network.name for network, _ in result.removed)
                messages.success(request, f"Removing {len(result.removed)} network(s): {names}.")
            for _, _, why in result.kept:
                messages.warning(request, why)
        return redirect(f"{request.path}?days={days}")
    networks = list(network_unused_list(tenant=request.tenant, days=days)[:UNUSED_REMOVE_MAX])
    context = {"networks": networks, "days": days, "day_choices": sorted({*DAY_CHOICES, days})}
    return render(request, "networks/network_unused.html", context)
