"""Network pages: the list, a network's page (kept live),
its inspect, connect and disconnect, remove, share and unshare."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from networks.filters import NetworkFilterSet
from networks.forms.networks import (
    ConnectForm,
    NetworkDescribeForm,
    NetworkRemoveForm,
    NetworkShareForm,
)
from networks.models import Network, Operation
from networks.selectors.containers import container_get
from networks.selectors.networks import (
    containers_connectable,
    network_connect_candidates,
    network_get,
    network_list_counted,
    network_share_list,
    network_tags_by_name,
)
from networks.selectors.operations import work_in_progress
from networks.selectors.usage import network_usage, networks_with_usage, usage_warns
from networks.services import notices
from networks.services.inspection import SHARED_NETWORK, network_inspect_refusal
from networks.services.networks.attach import network_connect, network_disconnect
from networks.services.networks.inspect import network_inspect
from networks.services.networks.remove import network_remove
from networks.services.queue import worker_failure_sentence
from networks.services.shares import network_share, network_unshare
from plumbing.forms import submit
from plumbing.inputs import parse_id
from plumbing.live import attempt, paginate, render_live, render_status, watch_version
from portal.actors import Actor
from portal.tenancy import require_change, require_manage, tenant_required


@tenant_required
@require_GET
def network_list_view(request):
    queryset = network_list_counted(tenant=request.tenant).prefetch_related(network_tags_by_name())
    if not request.GET.getlist("status"):
        queryset = queryset.exclude(status=Network.Status.REMOVED)
    filterset = NetworkFilterSet(request.GET, queryset=queryset, tenant=request.tenant)
    page = paginate(request, filterset.qs)
    page.object_list = networks_with_usage(page.object_list)
    context = {
        "filterset": filterset,
        "page": page,
        "sort": filterset.sort_columns(),
        "statuses": Network.Status.choices,
        "selected_statuses": request.GET.getlist("status"),
    }
    return render_live(
        request,
        page_template="networks/network_list.html",
        part_template="networks/_network_results.html",
        context=context,
        target="results",
        busy=work_in_progress(page),
    )


def _unfinished(network: Network):
    return network.operations.unfinished().order_by("created")


def _settled(network: Network, unfinished) -> bool:
    return network.status not in (Network.Status.CREATING, Network.Status.REMOVING) and not unfinished


def _status_context(network: Network) -> dict:
    unfinished = list(_unfinished(network))
    failure = None
    if network.status == Network.Status.FAILED:
        failure = network.operations.filter(status=Operation.Status.FAILED).first()
    return {
        "network": network,
        "unfinished": unfinished,
        "settled": _settled(network, unfinished),
        "failure": failure,
        "version": watch_version(network, [(op.pk, op.last_message) for op in unfinished], failure and failure.pk),
    }


def detail_context(request, network: Network, **extra) -> dict:
    candidates = network_connect_candidates(tenant=request.tenant, network=network)
    endpoints = network.endpoints.select_related("container__node").order_by("container__name")
    own = network.tenant_id == request.tenant.pk
    return {
        **_status_context(network),
        "own": own,
        "endpoints": endpoints,
        "removable": own and network.status in (Network.Status.ACTIVE, Network.Status.FAILED),
        "shares": network_share_list(network=network) if own else [],
        "share_form": extra.pop("share_form", None) or NetworkShareForm(network=network) if own else None,
        "describe_form": extra.pop("describe_form", None) or NetworkDescribeForm.of(network) if own else None,
        "operations": network.operations.filter(tenant=request.tenant).select_related("requested_by", "container")[:10],
        "usage": (usage := network_usage(network)),
        "usage_warns": usage_warns(usage),
        # The picker shows names only: the rest of each of the team's containers need not be read.
        "connect_form": extra.pop("connect_form", None) or ConnectForm(candidates=candidates.only("pk", "name")),
        "has_candidates": (has_candidates := candidates.exists()),
        # With none to connect: whether the team has any container here (else each is on the network already).
        "has_containers": has_candidates
        or containers_connectable(tenant=request.tenant, cluster=network.cluster).exists(),
        "remove_form": NetworkRemoveForm(),
        **extra,
    }


@tenant_required
@require_GET
def network_detail_view(request, pk: int):
    network = network_get(tenant=request.tenant, pk=pk)
    return render(request, "networks/network_detail.html", detail_context(request, network))


@tenant_required
@require_GET
def network_status_view(request, pk: int):
    """The long-polled part of the detail page: progress while work runs, then a watch for changes."""
    network = network_get(tenant=request.tenant, pk=pk)

    def current() -> dict:
        network.refresh_from_db()
        return _status_context(network)

    live = notices.page_waiter("network", network.pk)
    return render_status(request, "networks/_network_status.html", current, wait=live, settled_event="network-settled")


@tenant_required
@require_GET
def network_inspect_view(request, pk: int):
    """`docker network inspect`, asked of a worker; loaded after the page so a slow cluster never blocks it."""
    network = network_get(tenant=request.tenant, pk=pk)
    context = {"network": network, "inspect": None, "error": ""}
    refusal = network_inspect_refusal(tenant=request.tenant, network=network)
    if refusal is not None:
        if refusal.code == SHARED_NETWORK:  # until the network is active, the template says when it appears
            context["error"] = refusal.message
    else:
        try:
            context["inspect"] = network_inspect(network=network, timeout=10)
            context["inspect_json"] = json.dumps([context["inspect"]], indent=4)
        except Exception as error:  # a worker's answer may be any error, or none at all: say so, never a 500
            context["error"] = worker_failure_sentence(error)
    return render(request, "networks/_network_inspect.html", context)


@tenant_required
@require_POST
def network_connect_view(request, pk: int):
    require_change(request)
    network = network_get(tenant=request.tenant, pk=pk)
    candidates = network_connect_candidates(tenant=request.tenant, network=network)
    form = ConnectForm(request.POST, candidates=candidates)
    operation, status = submit(
        form,
        lambda data: network_connect(
            actor=Actor.of(request),
            tenant=request.tenant,
            network=network,
            container=data["container"],
            aliases=data["aliases"],
            ipv4_address=data["ip_address"],
        ),
    )
    if operation is not None:
        messages.success(request, f"Connecting {operation.container.name} to {network.name}.")
        return redirect("networks:network_detail", pk=network.pk)
    network.refresh_from_db()
    context = detail_context(request, network, connect_form=form)
    return render(request, "networks/network_detail.html", context, status=status)


@tenant_required
@require_POST
def network_disconnect_view(request, pk: int, container_pk: int):
    require_change(request)
    network = network_get(tenant=request.tenant, pk=pk)
    container = container_get(tenant=request.tenant, pk=container_pk)
    attempt(
        request,
        lambda: network_disconnect(
            actor=Actor.of(request),
            tenant=request.tenant,
            network=network,
            container=container,
            force=bool(request.POST.get("force")),
        ),
        f"Disconnecting {container.name} from {network.name}.",
    )
    return redirect("networks:network_detail", pk=network.pk)


@tenant_required
@require_POST
def network_remove_view(request, pk: int):
    require_change(request)
    network = network_get(tenant=request.tenant, pk=pk)
    form = NetworkRemoveForm(request.POST)
    form.is_valid()
    attempt(
        request,
        lambda: network_remove(
            actor=Actor.of(request),
            tenant=request.tenant,
            network=network,
            disconnect=form.cleaned_data.get("disconnect", False),
        ),
        f"Removing network {network.name}; {network.subnet} is freed once the cluster confirms.",
    )
    return redirect("networks:network_detail", pk=network.pk)


@tenant_required
@require_POST
def network_share_view(request, pk: int):
    require_manage(request)
    network = network_get(tenant=request.tenant, pk=pk)
    form = NetworkShareForm(request.POST, network=network)
    share, status = submit(
        form,
        lambda data: network_share(
            actor=Actor.of(request), tenant=request.tenant, network=network, with_tenant=data["tenant"].slug
        ),
    )
    if share is not None:
        messages.success(
            request, f"{network.name} is shared with {share.tenant.name}: they can run and connect containers on it."
        )
        return redirect("networks:network_detail", pk=network.pk)
    context = detail_context(request, network, share_form=form)
    return render(request, "networks/network_detail.html", context, status=status)


@tenant_required
@require_POST
def network_unshare_view(request, pk: int, tenant_pk: int):
    require_manage(request)
    network = network_get(tenant=request.tenant, pk=pk)
    share = get_object_or_404(network_share_list(network=network), tenant_id=parse_id(str(tenant_pk)))
    attempt(
        request,
        lambda: network_unshare(
            actor=Actor.of(request),
            tenant=request.tenant,
            network=network,
            with_tenant=share.tenant.slug,
            disconnect=bool(request.POST.get("disconnect")),
        ),
        lambda operations: f"{network.name} is no longer shared with {share.tenant.name}."
        + (f" Disconnecting {len(operations)} of their containers." if operations else ""),
    )
    return redirect("networks:network_detail", pk=network.pk)
