"""Tenants on shared clusters: who may use a swarm (grants), and how much of it (limits).

A swarm is one cluster whatever number of teams use it. A grant lets a tenant use it, with the
most networks, containers and published ports it may hold there. Limits are checked under the
swarm's allocation lock (the cluster row), so two requests at once can never pass one together.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from networks.models import Cluster, ClusterGrant, Container, Network, NetworkShare
from networks.selectors.clusters import grant_usage
from plumbing.errors import ServiceError, not_found
from plumbing.prepared import PreparedObjects, Read, reads_together
from portal.actors import Actor
from portal.changes import change_record
from portal.models import Tenant

from .allocations import cluster_lock

LIMIT_FIELDS = ("max_networks", "max_containers", "max_published_ports")


def grant_get(*, cluster: Cluster, tenant: Tenant, lock: bool = False, then: Read | None = None) -> ClusterGrant:
    """The tenant's grant on the cluster; a cluster it was not granted looks exactly like a missing one.

    `lock`: in the same query, take the swarm's lock (the cluster row, as `cluster_lock` does) until
    the transaction ends; `grant.cluster` is then the row as locked. `then`: a read sent in the same
    round trip, after the lock (plumbing/prepared.py `reads_together`): it sees what the lock's last
    holder wrote.
    """
    if lock:  # every create takes it: compiled once
        found = Read(_grant_locked_read, {"cluster": cluster.pk, "tenant": tenant.pk})
        reads_together(found, *([then] if then else []))
        grant = next(iter(found.rows or ()), None)
    else:
        grant = _grants(cluster=cluster.pk, tenant=tenant.pk).first()
    if grant is None:
        raise not_found("cluster", field="cluster")
    return grant


def _grants(*, cluster: int, tenant: int):
    return ClusterGrant.objects.filter(cluster=cluster, tenant=tenant).select_related("cluster", "tenant")


# One grant per team and cluster (a named constraint): unordered, as the model's ordering (cluster and team names)
# only gives PostgreSQL a sort to plan at each create.
_grant_locked_read = PreparedObjects(
    lambda cluster, tenant: _grants(cluster=cluster, tenant=tenant).select_for_update(of=("cluster",)).order_by()[:1],
    "cluster",
    "tenant",
)


def _refuse(tenant: Tenant, cluster: Cluster, what: str, limit: int, used: int, asked: int) -> ServiceError:
    more = f" and asks for {asked} more" if asked > 1 else ""
    return ServiceError(
        "limit_reached",
        f"{tenant.name} may have at most {limit} {what} on cluster {cluster.name} and has {used}{more}. "
        f"Remove some, or ask an admin to raise the limit (the cluster's grants in the admin, or "
        f"manage.py cluster_grant --cluster {cluster.pk} --tenant {tenant.slug} --max-{what.replace(' ', '-')} N).",
        http_status=409,
    )


def grant_check_room(
    *,
    cluster: Cluster,
    tenant: Tenant,
    networks: int = 0,
    containers: int = 0,
    published_ports: int = 0,
    then: Read | None = None,
) -> ClusterGrant:
    """Take the swarm's lock and refuse what would pass one of the tenant's limits there.

    Call inside the transaction that then records the network or container: the lock is held
    until it commits, so the count cannot change in between. `grant.cluster` is the locked row.
    `then`: a read to send with the lock, after it (`grant_get`).
    """
    grant = _grant_locked(cluster=cluster, tenant=tenant, then=then)
    asked = {"networks": networks, "containers": containers, "published ports": published_ports}
    limits = {
        "networks": grant.max_networks,
        "containers": grant.max_containers,
        "published ports": grant.max_published_ports,
    }
    if not any(asked[what] and limits[what] is not None for what in asked):
        return grant  # nothing asked for has a limit: nothing to count
    for what, used, limit in grant_usage(grant=grant).rows():
        if asked[what] and limit is not None and used + asked[what] > limit:
            raise _refuse(tenant, cluster, what, limit, used, asked[what])
    return grant


@dataclass(frozen=True)
class NetworkRoom:
    """How many more networks a tenant may make on a swarm, under its lock (`grant_network_room`)."""

    grant: ClusterGrant
    used: int
    free: int | None  # None: no limit

    def refusal(self, asked: int) -> ServiceError:
        """The refusal for a network of a batch of `asked` past the room left."""
        assert self.grant.max_networks is not None, "only a limit refuses"
        return _refuse(self.grant.tenant, self.grant.cluster, "networks", self.grant.max_networks, self.used, asked)


def grant_network_room(*, cluster: Cluster, tenant: Tenant) -> NetworkRoom:
    """Take the swarm's lock and say how many more networks the tenant may have there (a batch makes that
    many and refuses the rest). Call inside the transaction that records them, as `grant_check_room`."""
    grant = _grant_locked(cluster=cluster, tenant=tenant)
    if grant.max_networks is None:
        return NetworkRoom(grant=grant, used=0, free=None)
    used = grant_usage(grant=grant).networks
    return NetworkRoom(grant=grant, used=used, free=max(0, grant.max_networks - used))


def _grant_locked(*, cluster: Cluster, tenant: Tenant, then: Read | None = None) -> ClusterGrant:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a grant's room must be checked inside the transaction that records the new objects")
    return grant_get(cluster=cluster, tenant=tenant, lock=True, then=then)


@transaction.atomic
def cluster_grant(*, actor: Actor, cluster: Cluster, tenant: Tenant, **limits) -> tuple[ClusterGrant, bool]:
    """Let the tenant use the cluster (or change its limits); returns the grant and whether it is new."""
    unknown = sorted(set(limits) - set(LIMIT_FIELDS))
    if unknown:
        raise ServiceError(
            "bad_limit", f"Unknown limit {', '.join(unknown)}; the limits are {', '.join(LIMIT_FIELDS)}."
        )
    for name, value in limits.items():
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ServiceError("bad_limit", f"{name} is a whole number of 0 or more, or empty for no limit.")
    grant, created = ClusterGrant.objects.get_or_create(cluster=cluster, tenant=tenant, defaults=limits)
    if not created and limits:
        for name, value in limits.items():
            setattr(grant, name, value)
        grant.save(update_fields=list(limits))
    action = "cluster.grant" if created else "cluster.grant_change"
    change_record(actor=actor, action=action, tenant=tenant, obj=cluster, details=limits)
    return grant, created


def grant_holdings(*, cluster: Cluster, tenant: Tenant) -> list[str]:
    """What the tenant still has on the cluster, in words (a revocation waits until it is empty)."""
    networks = list(
        Network.objects.filter(cluster=cluster, tenant=tenant).live().order_by("name").values_list("name", flat=True)
    )
    containers = list(
        Container.objects.filter(cluster=cluster, tenant=tenant)
        .present()
        .order_by("name")
        .values_list("name", flat=True)
    )
    held = []
    if networks:
        held.append(f"network{'s' if len(networks) > 1 else ''} {', '.join(networks)}")
    if containers:
        held.append(f"container{'s' if len(containers) > 1 else ''} {', '.join(containers)}")
    return held


@transaction.atomic
def cluster_grant_revoke(*, actor: Actor, cluster: Cluster, tenant: Tenant) -> None:
    """Stop the tenant using the cluster; refused while it still has live networks or containers there."""
    cluster_lock(cluster.pk)
    grant = ClusterGrant.objects.filter(cluster=cluster, tenant=tenant).first()
    if grant is None:
        raise ServiceError("not_granted", f"{tenant.name} has no grant on cluster {cluster.name}.", http_status=404)
    held = grant_holdings(cluster=cluster, tenant=tenant)
    if held:
        raise ServiceError(
            "grant_in_use",
            f"{tenant.name} still has {' and '.join(held)} on cluster {cluster.name}. "
            "Remove them first (or ask the team to), then revoke the grant.",
            http_status=409,
        )
    NetworkShare.objects.filter(tenant=tenant, network__cluster=cluster).delete()
    grant.delete()
    change_record(actor=actor, action="cluster.grant_revoke", tenant=tenant, obj=cluster)
