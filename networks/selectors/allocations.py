"""A cluster's address pool as one team may see it: the capacity at a block size, and every block held,
its own and shared networks by name, any other holder only as held."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from networks import ipam
from networks.models import Cluster, Network, SubnetAllocation
from portal.models import Tenant


def cluster_capacity(*, cluster: Cluster, prefixlen: int | None = None) -> ipam.Capacity:
    """Blocks used, free and reserved at the cluster's default size, and the next one to be handed out."""
    prefixlen = cluster.default_prefixlen if prefixlen is None else prefixlen
    used = [ipaddress.IPv4Network(cidr) for cidr in cluster.subnet_allocations.values_list("cidr", flat=True)]
    reserved = [r.network for r in cluster.reserved_ranges.all()]
    return ipam.capacity(cluster.pool, prefixlen, reserved=reserved, used=used)


ANOTHER_TEAM = "held by another team"
OUTSIDE_THE_PORTAL = "held outside the portal"


@dataclass(frozen=True)
class HeldBlock:
    """A block of a shared swarm's pool as one tenant may see it: its own and shared networks by
    name, every other holder only as held (another team's, or made outside the portal)."""

    cidr: str
    kind: str
    owner: str
    network_id: int | None
    created: datetime | None = None


def subnet_allocation_list(*, tenant: Tenant, cluster: Cluster) -> list[HeldBlock]:
    visible = set(Network.objects.filter(cluster=cluster).usable_by(tenant).values_list("pk", flat=True))
    blocks = []
    for cidr, kind, owner, network_id, created in SubnetAllocation.objects.filter(cluster=cluster).values_list(
        "cidr", "kind", "owner", "network_id", "created"
    ):
        if network_id in visible:
            blocks.append(HeldBlock(cidr, kind, owner, network_id, created))
        elif kind == SubnetAllocation.Kind.EXTERNAL:
            blocks.append(HeldBlock(cidr, kind, OUTSIDE_THE_PORTAL, None, created))
        else:
            blocks.append(HeldBlock(cidr, "other", ANOTHER_TEAM, None, created))
    return blocks
