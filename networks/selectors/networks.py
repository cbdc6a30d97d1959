"""The networks a team may use, its own and those shared with it: lists (counted, or as plain rows for
the API), one by id or by name, the teams it is shared with or could be, and the containers that could join it."""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from networks.models import Cluster, Container, Endpoint, Network, NetworkQuerySet, NetworkShare, NetworkTag
from plumbing.api.rows import json_loads
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
    """`network_list` with `containers_count`, each network's endpoints counted in the row's own query,
    for the pages that list networks: without their clusters' credentials (kilobytes per row, which no
    list shows).

    A subquery, not a join with GROUP BY: a page's count of rows then reads the networks alone.
    """
    return (
        network_list(tenant=tenant)
        .defer(*(f"cluster__{name}" for name in CLUSTER_CREDENTIALS))
        .annotate(containers_count=network_container_count())
    )


# A cluster's columns of certificates and sealed keys.
CLUSTER_CREDENTIALS = ("tls_ca", "tls_cert", "tls_key_sealed", "consul_token_sealed")


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


def network_rows(
    *, tenant: Tenant | int, columns: list[str], expressions: dict[str, Any] | None = None
) -> QuerySet[Network, dict[str, Any]]:
    """`network_list` as plain rows of `columns` (`values()` lookups, such as cluster__name) and
    `expressions` (by alias): the API's lists and reads, where a page may hold a thousand networks and
    their model objects cost the most."""
    return Network.objects.usable_by(tenant).values(*columns, **(expressions or {}))


def network_rows_with_containers(rows: list[dict]) -> list[dict]:
    """Rows of `network_rows` (with their ids), each given its endpoints with their containers'
    names and teams (`endpoint_rows`, by container name: only what the API shows of a container, most
    may be another team's), the teams it is shared with (`share_rows`, by name) and its tags (`tag_rows`),
    each a list, or an empty tuple where there are none (most rows: no list each): one more query on
    PostgreSQL (`_related_rows_postgresql`), three elsewhere, whatever the number of rows."""
    by_id = {}
    for row in rows:
        row["endpoint_rows"] = row["share_rows"] = row["tag_rows"] = ()
        by_id[row["id"]] = row
    if not by_id:
        return rows
    related = _related_rows_postgresql if connection.vendor == "postgresql" else _related_rows
    for kind, network_id, value in related(list(by_id)):
        row = by_id[network_id]
        if row[kind]:
            row[kind].append(value)
        else:
            row[kind] = [value]
    return rows


def _related_rows(ids: list[int]):
    """(kind, network id, value) for `network_rows_with_containers`, in its order, by three ORM queries."""
    endpoints = Endpoint.objects.filter(network__any_of=ids).order_by("container__name", "pk")
    for endpoint in endpoints.values("network", *ENDPOINT_COLUMNS):
        yield "endpoint_rows", endpoint["network"], endpoint
    shares = NetworkShare.objects.filter(network__any_of=ids).order_by("tenant__name", "pk")
    for share in shares.values("network", "tenant__slug"):
        yield "share_rows", share["network"], share
    for network_id, tag in (
        NetworkTag.objects.filter(network__any_of=ids).order_by("name").values_list("network", "name")
    ):
        yield "tag_rows", network_id, tag


ENDPOINT_COLUMNS = ("container", "container__name", "container__tenant", "ipv4_address", "mac_address", "aliases")

# The same rows in one query, written once: building and compiling three ORM queries cost a network's
# record about 1 ms of CPU, sending them three round trips. Each part keeps its ORM query's order
# (row_number over it, within the part: the names compare by their columns' own collations).
_RELATED_SQL = """
SELECT 0, row_number() OVER (ORDER BY c.name, e.id), e.network_id, e.container_id, c.name, c.tenant_id,
       e.ipv4_address, e.mac_address, e.aliases
  FROM {endpoint} e JOIN {container} c ON c.id = e.container_id WHERE e.network_id = ANY(%(ids)s::bigint[])
UNION ALL
SELECT 1, row_number() OVER (ORDER BY t.name, s.id), s.network_id, NULL, t.slug, NULL, NULL, NULL, NULL
  FROM {share} s JOIN {tenant} t ON t.id = s.tenant_id WHERE s.network_id = ANY(%(ids)s::bigint[])
UNION ALL
SELECT 2, row_number() OVER (ORDER BY g.name, g.id), g.network_id, NULL, g.name, NULL, NULL, NULL, NULL
  FROM {tag} g WHERE g.network_id = ANY(%(ids)s::bigint[])
ORDER BY 1, 2
"""


@functools.cache
def _related_sql() -> str:
    tables = {"endpoint": Endpoint, "container": Container, "share": NetworkShare, "tenant": Tenant, "tag": NetworkTag}
    return _RELATED_SQL.format(**{name: model._meta.db_table for name, model in tables.items()})


def _related_rows_postgresql(ids: list[int]):
    """`_related_rows` in one query (the ids as one array's text, as `any_of` sends them)."""
    with connection.cursor() as cursor:
        cursor.execute(_related_sql(), {"ids": "{" + ",".join(map(str, ids)) + "}"})
        found = cursor.fetchall()
    for kind, _, network_id, container, name, tenant, address, mac, aliases in found:
        if kind == 0:  # jsonb arrives as text (Django decodes JSONField itself): decoded as Django would
            endpoint = {"network": network_id, "container": container, "container__name": name}
            endpoint.update(
                container__tenant=tenant, ipv4_address=address, mac_address=mac, aliases=json_loads(aliases)
            )
            yield "endpoint_rows", network_id, endpoint
        elif kind == 1:
            yield "share_rows", network_id, {"network": network_id, "tenant__slug": name}
        else:
            yield "tag_rows", network_id, name


def network_share_list(*, network: Network) -> QuerySet[NetworkShare]:
    """The teams a network is shared with (its owners' view)."""
    return network.shares.select_related("tenant", "created_by").order_by("tenant__name")


def network_share_candidates(*, network: Network) -> QuerySet[Tenant]:
    """The other teams of the network's cluster it is not yet shared with."""
    teams = Tenant.objects.filter(cluster_grants__cluster=network.cluster_id)
    if network.tenant_id is not None:  # a system network has no owning team to leave out
        teams = teams.exclude(pk=network.tenant_id)
    return teams.exclude(network_shares__network=network).order_by("name")


def containers_connectable(*, tenant: Tenant, cluster: Cluster) -> QuerySet[Container]:
    """The tenant's containers on the cluster that can be connected to a network now (on it or not)."""
    return (
        Container.objects.filter(tenant=tenant, cluster=cluster, is_system=False)
        .exclude(status__in=[Container.Status.REMOVING, Container.Status.REMOVED, Container.Status.FAILED])
        .order_by("name")
    )


def network_connect_candidates(*, tenant: Tenant, network: Network) -> QuerySet[Container]:
    """The tenant's containers on the network's cluster that can be connected to it now."""
    return containers_connectable(tenant=tenant, cluster=network.cluster).exclude(endpoints__network=network)


def network_find(*, tenant: Tenant, cluster: Cluster, ref: int | str) -> Network | None:
    """A network the tenant may use on the cluster (its own or shared with it): by id, or a live one by name."""
    networks = network_list(tenant=tenant).filter(cluster=cluster)
    if isinstance(ref, int):
        return networks.filter(pk=ref).first()
    return networks.live().filter(name=ref).first()
