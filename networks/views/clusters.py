"""Cluster pages: the allocation map and topology a team sees, a cluster's health, and the staff pages
that register, test, rotate and deregister swarms."""

from __future__ import annotations

import time

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from networks.forms.clusters import ClusterCredentialsForm, ClusterRegisterForm
from networks.selectors.clusters import (
    cluster_credentials,
    cluster_get,
    cluster_get_for_staff,
    cluster_list,
    cluster_list_for_staff,
)
from networks.selectors.diagrams import cluster_allocation_map, cluster_topology
from networks.selectors.health import cluster_health_get, cluster_health_of
from networks.selectors.operations import cluster_work_in_progress
from networks.services.clusters.health import cluster_refresh_health_request, cluster_test_ask
from networks.services.clusters.registration import cluster_deregister, cluster_register_ask
from networks.services.clusters.rotation import cluster_credentials_rotate_ask
from networks.services.queue import worker_answer
from plumbing.errors import USER_ERRORS
from plumbing.forms import submit
from plumbing.inputs import parse_id
from plumbing.live import attempt, render_live
from portal.actors import Actor
from portal.tenancy import require_change, staff_required, tenant_required


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
    """The picture leaves out networks no container is on; `?empty=1` draws them too."""
    show_empty = request.GET.get("empty") == "1"
    return _cluster_page(
        request,
        "networks/topology.html",
        "networks/_topology_picture.html",
        lambda cluster: {
            "topology": cluster_topology(tenant=request.tenant, cluster=cluster, show_empty=show_empty),
            "show_empty": show_empty,
        },
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


# --- staff: registering clusters, testing their connection, rotating credentials, deregistering ------


def register_submit(request, form: ClusterRegisterForm):
    """What the register page and the admin's add page do with a filled form: the cluster, or None with the
    refusal on the form (and the HTTP status to answer)."""
    return submit(
        form,
        lambda data: worker_answer(
            lambda: cluster_register_ask(
                actor=Actor.of(request),
                tenant=data["tenant"],
                bundle=data["credentials"],
                name=data["name"],
                registry=data["registry"],
            )
        ),
    )


def rotate_submit(request, cluster, form: ClusterCredentialsForm):
    """What the cluster page and the admin do with a new bundle: the cluster, or None with the refusal on the form."""
    return submit(
        form,
        lambda data: worker_answer(
            lambda: cluster_credentials_rotate_ask(actor=Actor.of(request), cluster=cluster, bundle=data["credentials"])
        ),
    )


def test_answer(cluster) -> dict:
    """The connection test's answer, {"ok", "code", "message"}, also when no worker answered."""
    try:
        return worker_answer(lambda: cluster_test_ask(cluster=cluster))
    except USER_ERRORS as error:
        return {"ok": False, "code": error.code, "message": error.message}


def registered_sentence(cluster) -> str:
    return (
        f'Cluster "{cluster.name}" registered: swarm {cluster.swarm_id}, {cluster.nodes.count()} node(s). '
        "A worker reconciles it and looks at its health now."
    )


def rotated_sentence(cluster) -> str:
    return f'Cluster "{cluster.name}" now uses the new credentials; the old ones are dropped.'


def deregistered_sentence(cluster) -> str:
    return f'Cluster "{cluster.name}" is deregistered: the portal no longer uses its credentials.'


def _staff_cluster_row(cluster) -> dict:
    return {"cluster": cluster, "credentials": cluster_credentials(cluster), "health": cluster_health_of(cluster)}


@staff_required
@require_GET
def cluster_list_view(request):
    rows = [_staff_cluster_row(cluster) for cluster in cluster_list_for_staff()]
    return render(request, "networks/cluster_list.html", {"rows": rows})


@staff_required
def cluster_register_view(request):
    form = ClusterRegisterForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        cluster, status = register_submit(request, form)
        if cluster is not None:
            messages.success(request, registered_sentence(cluster))
            return redirect("networks:cluster_detail", pk=cluster.pk)
    return render(request, "networks/cluster_register.html", {"form": form}, status=status)


def _staff_cluster_page(request, pk: int, *, rotate_form=None, status: int = 200) -> HttpResponse:
    cluster = cluster_get_for_staff(pk=pk)
    context = {
        **_staff_cluster_row(cluster),
        "teams": [grant.tenant for grant in cluster.grants.all()],
        "rotate_form": rotate_form or ClusterCredentialsForm(),
    }
    return render(request, "networks/cluster_detail.html", context, status=status)


@staff_required
@require_GET
def cluster_detail_view(request, pk: int):
    return _staff_cluster_page(request, pk)


@staff_required
@require_POST
def cluster_test_view(request, pk: int):
    """Test the connection with the stored credentials (a worker connects); htmx gets the sentence alone."""
    cluster = cluster_get_for_staff(pk=pk)
    answer = test_answer(cluster)
    if request.htmx:
        return render(request, "networks/_cluster_test.html", {"answer": answer})
    (messages.success if answer["ok"] else messages.error)(request, answer["message"])
    return redirect("networks:cluster_detail", pk=cluster.pk)


@staff_required
@require_POST
def cluster_credentials_view(request, pk: int):
    cluster = cluster_get_for_staff(pk=pk)
    form = ClusterCredentialsForm(request.POST, request.FILES)
    rotated, status = rotate_submit(request, cluster, form)
    if rotated is None:
        return _staff_cluster_page(request, pk, rotate_form=form, status=status)
    messages.success(request, rotated_sentence(cluster))
    return redirect("networks:cluster_detail", pk=cluster.pk)


@staff_required
@require_POST
def cluster_deregister_view(request, pk: int):
    cluster = cluster_get_for_staff(pk=pk)

    done = attempt(
        request, lambda: cluster_deregister(actor=Actor.of(request), cluster=cluster), deregistered_sentence(cluster)
    )
    return redirect("networks:cluster_list") if done else redirect("networks:cluster_detail", pk=cluster.pk)
