"""A swarm's reserved ranges, which no block may overlap: staff change them without the swarm's lock (the admin),
so a create reads them before it takes the lock, alone or sent with its other reads (allocations.py)."""

from __future__ import annotations

from networks import ipam
from networks.models import ReservedRange
from plumbing.prepared import PreparedObjects, Read

# Every create reads them: compiled once (plumbing/prepared.py). Ordered by range alone: the model's ordering (its
# cluster's name first) joins the cluster's row for one cluster's ranges, a join PostgreSQL plans at each create.
_reserved_rows = PreparedObjects(
    lambda cluster: ReservedRange.objects.filter(cluster=cluster).order_by("cidr"), "cluster"
)


def subnets_reserved(*, cluster_id: int) -> list[ipam.Reserved]:
    """The swarm's reserved ranges: staff change them without its lock (the admin), so a create reads them first."""
    return subnets_reserved_of(subnets_reserved_read(cluster_id=cluster_id, sent=True))


def subnets_reserved_read(*, cluster_id: int, sent: bool = False) -> Read:
    """The read of `subnets_reserved`, to send with another statement (`Writes.reserve`); `sent`: read now."""
    read = Read(_reserved_rows, {"cluster": cluster_id})
    if sent:
        read.rows = _reserved_rows(cluster=cluster_id)
    return read


def subnets_reserved_of(read: Read) -> list[ipam.Reserved]:
    """The reserved ranges `read` (`subnets_reserved_read`, sent) found."""
    return [ipam.Reserved(r.network, r.description, servicenet=r.is_servicenet) for r in read.rows or []]
