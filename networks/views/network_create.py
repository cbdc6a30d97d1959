"""Create network: the form, and the preview of the block a network will get as it is typed."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from networks import ipam
from networks.forms.networks import (
    NetworkCreateForm,
)
from networks.selectors.allocations import available_prefixes, cluster_capacity
from networks.services.allocations import subnet_check
from networks.services.networks.create import network_create
from plumbing.forms import submit
from plumbing.inputs import parse_id
from portal.actors import Actor
from portal.tenancy import require_change, tenant_required

FREE_BLOCKS_OFFERED = 8


def subnet_preview(*, tenant, cluster, prefixlen, subnet: str, gateway: str) -> dict:
    """What the create form promises before it is sent: the block the network will get, or why not."""
    if cluster is None:
        return {"ok": False, "message": "Pick a cluster."}
    subnet = (subnet or "").strip()
    try:
        if subnet:
            block = subnet_check(cluster=cluster, subnet=subnet, tenant=tenant)
            free = None
        else:
            capacity = cluster_capacity(cluster=cluster, prefixlen=prefixlen)
            if capacity.next_block is None:
                raise ipam.PoolExhausted(cluster.pool, capacity.prefixlen)
            block, free = capacity.next_block, capacity
        gateway_address = ipam.parse_gateway(gateway, block)
        offered = available_prefixes(cluster=cluster, prefixlen=block.prefixlen, limit=FREE_BLOCKS_OFFERED)
    except ipam.IpamError as error:
        return {"ok": False, "message": error.message, "field": error.field}
    return {
        "ok": True,
        "custom": bool(subnet),
        "block": block,
        "gateway": gateway_address,
        "addresses": block.num_addresses - 2,
        "capacity": free,
        "free_blocks": offered,
    }


def _preview_for(form: NetworkCreateForm, tenant) -> dict:
    def value(name):
        return form[name].value() if form.is_bound else form.fields[name].initial

    cluster_id = parse_id(str(value("cluster") or ""))
    cluster = form.fields["cluster"].queryset.filter(pk=cluster_id).first() if cluster_id else None
    try:
        prefixlen = int(value("prefixlen")) if value("prefixlen") not in (None, "") else None
    except (TypeError, ValueError):
        prefixlen = None  # not a number: the form says so; the preview shows the default size
    return subnet_preview(
        tenant=tenant,
        cluster=cluster,
        prefixlen=prefixlen,
        subnet=value("subnet") or "",
        gateway=value("gateway") or "",
    )


@tenant_required
def network_create_view(request):
    require_change(request)
    form = NetworkCreateForm(request.POST or None, tenant=request.tenant)
    status = 200
    if request.method == "POST":
        operation, status = submit(
            form,
            lambda data: network_create(
                actor=Actor.of(request),
                tenant=request.tenant,
                cluster=data["cluster"],
                name=data["name"],
                subnet=data["subnet"],
                prefixlen=data["prefixlen"],
                gateway=data["gateway"],
                internal=data["internal"],
                encrypted=data["encrypted"],
                labels=data["labels"],
                ip_range=data["ip_range"],
                aux_addresses=data["aux_addresses"],
                mtu=data["mtu"],
                attachable=not data["services_only"],
            ),
        )
        if operation is not None:
            messages.success(request, f"Creating network {operation.target} on {operation.params['subnet']}.")
            for warning in operation.params.get("warnings", []):
                messages.warning(request, warning)
            return redirect("networks:network_detail", pk=operation.network_id)
    context = {
        "form": form,
        "preview": _preview_for(form, request.tenant),
        "has_clusters": form.fields["cluster"].queryset.exists(),
    }
    return render(request, "networks/network_create.html", context, status=status)


@tenant_required
@require_GET
def network_preview_view(request):
    """The create form's live preview: the next free block, or the custom subnet checked as typed."""
    require_change(request)
    form = NetworkCreateForm(request.GET, tenant=request.tenant)
    return render(request, "networks/_subnet_preview.html", {"preview": _preview_for(form, request.tenant)})
