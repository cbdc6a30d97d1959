"""The networks a team may use, its own and those shared with it: lists (counted, or as plain rows for
the API), one by id or by name, the teams it is shared with or could be, and the containers that could join it."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from networks.models import Cluster, Container, Endpoint, Network, NetworkQuerySet, NetworkShare, NetworkTag
from portal.models import Tenant


def network_list(*, tenant: Tenant) -> NetworkQuerySet:
    """The tenant's own networks and those shared with it; never another team's, never external ones."""
    return Network.objects.usable_by(tenant).select_related("cluster", "created_by", "tenant")


def network_attachable_list(*, tenant: Tenant) -> NetworkQuerySet:
    """The networks a standalone container of the tenant can join now: active and attachable (a network only
    swarm services may join is left out; the run and connect services refuse it with the reason)."""
    return network_list(tenant=tenant).filter(status=Network.Status.ACTIVE, attachable=True)


def unused_cutoff(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def network_unused_filter(queryset, *, days: int):
    """Networks of `queryset` with no container on them now, and none joining or leaving for `days` days
    (since they were made, when none ever has)."""
    has_endpoint = Exists(Endpoint.objects.filter(network=OuterRef("pk")))
    idle_since = Coalesce("last_attached", "created")
    return queryset.filter(~has_endpoint).alias(idle_since=idle_since).filter(idle_since__lte=unused_cutoff(days))


def network_unused_list(*, tenant: Tenant, days: int) -> NetworkQuerySet:
    """The team's own active networks unused for `days` days: what it may remove in one go. Never another
    team's (shared with it or not), never one made outside the portal (the swarm's ingress, a CLI one)."""
    networks = Network.objects.filter(tenant=tenant, is_external=False, status=Network.Status.ACTIVE)
    return (
        network_unused_filter(networks, days=days)
        .annotate(idle_since=Coalesce("last_attached", "created"))
        .select_related("cluster")
        .order_by("idle_since", "name")
    )


def network_get(*, tenant: Tenant, pk: int) -> Network:
    return get_object_or_404(network_list(tenant=tenant), pk=pk)


def network_list_counted(*, tenant: Tenant) -> NetworkQuerySet:
    """`network_list` with `containers_count`, each network's endpoints counted in the row's own query.

    A subquery, not a join with GROUP BY: a page's count of rows then reads the networks alone.
    """
    return network_list(tenant=tenant).annotate(containers_count=network_container_count())


def network_tags_by_name() -> Prefetch:
    """Each network's tags by name, for `prefetch_related`: without the tags' model ordering, which sorts by
    their networks' clusters and names through two joins."""
    return Prefetch("tags", queryset=NetworkTag.objects.order_by("name"))


def network_container_count() -> Coalesce:
    """The number of containers on each network of a queryset (its endpoints), as an expression to
    annotate or to order by."""
    endpoints = Endpoint.objects.filter(network=OuterRef("pk")).order_by().values("network")
    counted = endpoints.annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted), 0)


def network_rows(*, tenant: Tenant, columns: list[str]) -> QuerySet[Network, dict[str, Any]]:
    """`network_list` as plain rows of `columns` (`values()` lookups, such as cluster__name): the API's
    lists and reads, where a page may hold a thousand networks and their model objects cost the most."""
    return Network.objects.usable_by(tenant).values(*columns)


def network_rows_with_containers(rows: list[dict]) -> list[dict]:
    """Rows of `network_rows` (with their ids), each given its endpoints with their containers'
    names and teams (`endpoint_rows`, by container name: only what the API shows of a container, most
    may be another team's), the teams it is shared with (`share_rows`, by name) and its tags (`tag_rows`):
    three more queries whatever the number of rows."""
    by_id = {}
    for row in rows:
        row["endpoint_rows"], row["share_rows"], row["tag_rows"] = [], [], []
        by_id[row["id"]] = row
    if not by_id:
        return rows
    endpoints = Endpoint.objects.filter(network__any_of=by_id).order_by("container__name", "pk")
    for endpoint in endpoints.values(
        "network", "container", "container__name", "container__tenant", "ipv4_address", "mac_address", "aliases"
    ):
        by_id[endpoint["network"]]["endpoint_rows"].append(endpoint)
    shares = NetworkShare.objects.filter(network__any_of=by_id).order_by("tenant__name", "pk")
    for share in shares.values("network", "tenant__slug"):
        by_id[share["network"]]["share_rows"].append(share)
    for network_id, tag in (
        NetworkTag.objects.filter(network__any_of=by_id).order_by("name").values_list("network", "name")
    ):
        by_id[network_id]["tag_rows"].append(tag)
    return rows


def network_share_list(*, network: Network) -> QuerySet[NetworkShare]:
    """The teams a network is shared with (its owners' view)."""
    return network.shares.select_related("tenant", "created_by").order_by("tenant__name")


def network_share_candidates(*, network: Network) -> QuerySet[Tenant]:
    """The other teams of the network's cluster it is not yet shared with."""
    teams = Tenant.objects.filter(cluster_grants__cluster=network.cluster_id)
    if network.tenant_id is not None:  # a system network has no owning team to leave out
        teams = teams.exclude(pk=network.tenant_id)
    return teams.exclude(network_shares__network=network).order_by("name")


def network_connect_candidates(*, tenant: Tenant, network: Network) -> QuerySet[Container]:
    """The tenant's containers on the network's cluster that can be connected to it now."""
    return (
        Container.objects.filter(tenant=tenant, cluster=network.cluster, is_system=False)
        .exclude(status__in=[Container.Status.REMOVING, Container.Status.REMOVED, Container.Status.FAILED])
        .exclude(endpoints__network=network)
        .order_by("name")
    )


def network_find(*, tenant: Tenant, cluster: Cluster, ref: int | str) -> Network | None:
    """A network the tenant may use on the cluster (its own or shared with it): by id, or a live one by name."""
    networks = network_list(tenant=tenant).filter(cluster=cluster)
    if isinstance(ref, int):
        return networks.filter(pk=ref).first()
    return networks.live().filter(name=ref).first()
