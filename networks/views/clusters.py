from __future__ import annotations

import time

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from networks.selectors import (
    cluster_allocation_map,
    cluster_get,
    cluster_health_get,
    cluster_list,
    cluster_topology,
    cluster_work_in_progress,
)
from networks.services.clusters import cluster_refresh_health_request
from plumbing.inputs import parse_id
from plumbing.live import render_live
from portal.tenancy import require_change, tenant_required


def _chosen_cluster(request):
    """The cluster named by ?cluster= (another tenant's is a 404), else the tenant's first."""
    clusters = cluster_list(tenant=request.tenant)
    pk = parse_id(request.GET.get("cluster"))
    if pk:
        return cluster_get(tenant=request.tenant, pk=pk), clusters
    return clusters.first(), clusters


def _cluster_page(request, template: str, part_template: str, picture) -> HttpResponse:
    """A page about one cluster: `picture(cluster)` adds what it draws, which keeps itself current."""
    cluster, clusters = _chosen_cluster(request)
    context = {"cluster": cluster, "clusters": clusters}
    if cluster is None:
        return render(request, template, context)
    context.update(picture(cluster))
    return render_live(
        request,
        page_template=template,
        part_template=part_template,
        context=context,
        busy=cluster_work_in_progress(cluster=cluster),
    )


@tenant_required
@require_GET
def allocation_map_view(request):
    def picture(cluster):
        drawing, capacity = cluster_allocation_map(
            tenant=request.tenant, cluster=cluster, focus=request.GET.get("block"), selected=request.GET.get("select")
        )
        return {"picture": drawing, "capacity": capacity}

    return _cluster_page(request, "networks/allocation_map.html", "networks/_allocation_picture.html", picture)


@tenant_required
@require_GET
def topology_view(request):
    return _cluster_page(
        request,
        "networks/topology.html",
        "networks/_topology_picture.html",
        lambda cluster: {"topology": cluster_topology(tenant=request.tenant, cluster=cluster)},
    )


REFRESH_WAIT_SECONDS = 30


def _still_refreshing(health, since: str) -> float | None:
    """The time a refresh was asked at, while its answer is not in yet (and not too long ago)."""
    try:
        asked = float(since)
    except (TypeError, ValueError):
        return None
    answered = health.last_seen is not None and health.last_seen.timestamp() >= asked
    return None if answered or time.time() - asked > REFRESH_WAIT_SECONDS else asked


@tenant_required
@require_GET
def cluster_health_view(request, pk: int):
    """One cluster's health card; after a refresh it asks again every second until the worker answered."""
    health = cluster_health_get(tenant=request.tenant, pk=pk)
    refreshing = _still_refreshing(health, request.GET.get("since"))
    return render(request, "networks/_cluster_card.html", {"health": health, "refreshing": refreshing})


@tenant_required
@require_POST
def cluster_refresh_health_view(request, pk: int):
    require_change(request)
    cluster = cluster_get(tenant=request.tenant, pk=pk)
    cluster_refresh_health_request(cluster=cluster)
    if request.htmx:
        health = cluster_health_get(tenant=request.tenant, pk=pk)
        return render(request, "networks/_cluster_card.html", {"health": health, "refreshing": time.time()})
    messages.info(request, f"Asked cluster {cluster.name} how its nodes and Consul agents are; reload in a moment.")
    return redirect("networks:dashboard")
