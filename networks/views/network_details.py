"""The network page's form for the portal's own details of a network: its description and tags."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from networks.forms.networks import NetworkDescribeForm
from networks.selectors.networks import network_get
from networks.services.networks.details import network_describe
from plumbing.forms import submit
from portal.actors import Actor
from portal.tenancy import require_change, tenant_required

from .networks import detail_context


@tenant_required
@require_POST
def network_describe_view(request, pk: int):
    require_change(request)
    network = network_get(tenant=request.tenant, pk=pk)
    form = NetworkDescribeForm(request.POST)
    described, status = submit(
        form,
        lambda data: network_describe(
            actor=Actor.of(request),
            tenant=request.tenant,
            network=network,
            description=data["description"],
            tags=data["tags"],
        ),
    )
    if described is not None:
        messages.success(request, f"Saved the description and tags of {network.name}.")
        return redirect("networks:network_detail", pk=network.pk)
    return render(
        request, "networks/network_detail.html", detail_context(request, network, describe_form=form), status=status
    )
