"""A cluster's address pool as one team may see it: the capacity at a block size, the next free blocks of
a size, and every block held, its own and shared networks by name, any other holder only as held."""

from __future__ import annotations

import dataclasses
import heapq
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, Value, When

from networks import ipam
from networks.models import Cluster, Network, SubnetAllocation
from portal.models import Tenant


def cluster_capacity(*, cluster: Cluster, prefixlen: int | None = None) -> ipam.Capacity:
    """Blocks used, free and reserved at a size (the cluster's default), and the next one to be handed out.

    The same figures as ipam.capacity over every held block, in a few queries whatever their number: the
    held blocks that lie inside one block of the size, in the pool and clear of the reserved ranges, are
    counted by the database (as distinct block numbers); only the rest (blocks spanning several, or near a
    reserved range: a handful) are read and merged in Python. Held blocks never overlap, so the two sets
    share no block number.
    """
    prefixlen = cluster.default_prefixlen if prefixlen is None else prefixlen
    pool = cluster.pool
    ipam.check_prefixlen(pool, prefixlen)
    reserved = [r.network for r in cluster.reserved_ranges.all()]
    step = 1 << (32 - prefixlen)
    pool_lo, pool_hi = ipam.to_range(pool)
    near_reserved = Q(pk__in=[])
    for network in reserved:
        lo, hi = ipam.to_range(network)
        near_reserved |= Q(first__lte=(hi // step + 1) * step - 1, last__gte=lo // step * step)
    rows = SubnetAllocation.objects.filter(cluster=cluster).annotate(
        block=F("first") / step, block_end=F("last") / step
    )
    simple = rows.filter(first__gte=pool_lo, last__lte=pool_hi, block=F("block_end")).exclude(near_reserved)
    counted = simple.aggregate(blocks=Count("block", distinct=True))["blocks"]
    rest = rows.filter(first__lte=pool_hi, last__gte=pool_lo).filter(~Q(block=F("block_end")) | near_reserved)
    used = [ipaddress.IPv4Network(cidr) for cidr in rest.values_list("cidr", flat=True)]
    figures = ipam.capacity(pool, prefixlen, reserved=reserved, used=used)
    following = available_prefixes(cluster=cluster, prefixlen=prefixlen, limit=1)
    return dataclasses.replace(
        figures,
        used_blocks=figures.used_blocks + counted,
        free_blocks=figures.free_blocks - counted,
        next_block=following[0] if following else None,
    )


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


def subnet_allocation_list(*, tenant: Tenant, cluster: Cluster, where: Q | None = None) -> list[HeldBlock]:
    """Every block held on the cluster (or those `where` picks), as the tenant may see it."""
    visible = set(Network.objects.filter(cluster=cluster).usable_by(tenant).values_list("pk", flat=True))
    blocks = []
    rows = SubnetAllocation.objects.filter(cluster=cluster)
    for cidr, kind, owner, network_id, created in (rows if where is None else rows.filter(where)).values_list(
        "cidr", "kind", "owner", "network_id", "created"
    ):
        if network_id in visible:
            blocks.append(HeldBlock(cidr, kind, owner, network_id, created))
        elif kind == SubnetAllocation.Kind.EXTERNAL:
            blocks.append(HeldBlock(cidr, kind, OUTSIDE_THE_PORTAL, None, created))
        else:
            blocks.append(HeldBlock(cidr, "other", ANOTHER_TEAM, None, created))
    return blocks


def held_block_totals(
    *, tenant: Tenant, cluster: Cluster, cell_prefixlen: int
) -> dict[int, dict[str, tuple[int, int]]]:
    """For each cell of a size (by its first address), how many held blocks inside it of each kind the tenant
    may tell apart (its own and shared networks, another team's, outside the portal) and how many addresses
    they cover: one grouped query, for the map's overview. Blocks larger than a cell are not counted here."""
    step = 1 << (32 - cell_prefixlen)
    visible = Network.objects.filter(cluster=cluster).usable_by(tenant).values("pk")
    holder = Case(
        When(kind=SubnetAllocation.Kind.EXTERNAL, then=Value("external")),
        When(network__in=visible, then=Value("network")),
        default=Value("other"),
    )
    rows = (
        SubnetAllocation.objects.filter(cluster=cluster)
        .annotate(cell=F("first") / step, cell_end=F("last") / step, holder=holder)
        .filter(cell=F("cell_end"))
        .values("cell", "holder")
        .annotate(blocks=Count("pk"), size=Sum(F("last") - F("first") + 1, output_field=BigIntegerField()))
        .order_by()
    )
    totals: dict[int, dict[str, tuple[int, int]]] = {}
    for row in rows:
        totals.setdefault(row["cell"] * step, {})[row["holder"]] = (row["blocks"], row["size"])
    return totals
