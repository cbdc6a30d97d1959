"""A cluster's address pool as one team may see it: the capacity at a block size, the next free blocks of
a size, and every block held, its own and shared networks by name, any other holder only as held."""

from __future__ import annotations

import heapq
import ipaddress
from collections.abc import Iterator
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


AVAILABLE_MAX = 100  # free blocks listed at once
PAGE_ROWS = 256  # held blocks read per query while the walk looks for free ones


def available_prefixes(
    *, cluster: Cluster, prefixlen: int | None = None, limit: int = 10
) -> list[ipaddress.IPv4Network]:
    """The next `limit` free blocks of a size, in the order creates hand them out (Carina's: lowest first).

    Free blocks name no one, so every team may see them; another team's block is only skipped. Three
    queries whatever the number of networks: the reserved ranges, the held block under the cluster's
    floor (everything below it is taken), and the held blocks from there on, a page at a time, which
    the walk stops reading once it has found `limit` (one page on a pool filled in order).
    """
    prefixlen = cluster.default_prefixlen if prefixlen is None else prefixlen
    floor = cluster.allocation_floor if cluster.allocation_floor is not None else int(cluster.pool.network_address)
    reserved = sorted(ipam.to_range(r.network) for r in cluster.reserved_ranges.all())
    occupied = heapq.merge(reserved, _held_from(cluster, floor))
    return ipam.free_blocks(cluster.pool, prefixlen, occupied=occupied, floor=floor, limit=limit)


def _held_from(cluster: Cluster, floor: int) -> Iterator[tuple[int, int]]:
    """Held blocks that end at `floor` or later, by their start, read lazily a page at a time.

    Held blocks never overlap, so those are the one holding `floor` (if any) and every one after it:
    an index range on (cluster, first), never the thousands of rows below the floor.
    """
    rows = SubnetAllocation.objects.filter(cluster=cluster)
    under = rows.filter(first__lte=floor).order_by("-first").values_list("first", "last").first()
    start = floor + 1  # a block starting at the floor is `under`
    if under is not None and under[1] >= floor:
        yield under
        start = under[0] + 1
    while True:
        page = list(rows.filter(first__gte=start).order_by("first").values_list("first", "last")[:PAGE_ROWS])
        yield from page
        if len(page) < PAGE_ROWS:
            return
        start = page[-1][0] + 1


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
