"""Subnet allocation: never two holders of one block, in Carina's order (who holds a block, as a team is told
of it: allocations_holders.py; addresses inside a network: addresses.py).

Every allocation runs inside a per-cluster lock (the cluster row, `select_for_update`), computes
its answer inside the lock, and is backed by the database (unique start address everywhere, an
exclusion constraint on PostgreSQL). The choice costs a few index lookups whatever the number of
allocations: the walk starts at the cluster's persisted floor (everything below it is taken) and
jumps from one held block to the end of the next. A batch reads the held blocks above the floor once
and chooses all its blocks in memory (`subnets_batch_begin`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models.expressions import Combinable

from networks import ipam
from networks.models import Cluster, Network, SubnetAllocation
from plumbing.prepared import PreparedRows, PreparedUpdate
from plumbing.writes import Writes

# The Consul mirror of the blocks comes with the allocator (written in allocations_consul.py).
from .allocations_consul import (  # noqa: F401
    SubnetConflict,
    subnet_release_in_consul,
    subnet_reservation,
    subnet_reservations_elsewhere,
    subnet_reserve_in_consul,
    subnets_reserve_in_consul,
)

# The reserved ranges, read before the lock (allocations_reserved.py).
from .allocations_holders import held_overlapping
from .allocations_reserved import subnets_reserved, subnets_reserved_of, subnets_reserved_read  # noqa: F401


def cluster_lock(cluster_id: int) -> Cluster:
    """Take the swarm's allocation lock (its cluster row) until the transaction ends; every tenant's
    allocations and grant limits on the swarm are decided under it."""
    return Cluster.objects.select_for_update().get(pk=cluster_id)


# Every create reads these and moves the floor under the swarm's lock: compiled once (plumbing/prepared.py).
_held_last = PreparedRows(
    lambda cluster, hi: SubnetAllocation.objects.filter(cluster_id=cluster, first__lte=hi)
    .order_by("-first")
    .values("last")[:1],
    "cluster",
    "hi",
)

_floor_persist = PreparedUpdate(
    lambda pk, floor: (Cluster.objects.filter(pk=pk), {"allocation_floor": floor}), "pk", "floor"
)


def _reserved(cluster: Cluster) -> list[ipam.Reserved]:
    reserved = getattr(cluster, "_reserved_ranges", None)  # read before the lock (`subnets_batch_begin`)
    return subnets_reserved(cluster_id=cluster.pk) if reserved is None else reserved


def _held_overlap(cluster_id: int) -> ipam.OverlapFn:
    """Overlap lookup over held blocks; they never overlap each other, so one index probe is enough."""

    def overlap(lo: int, hi: int) -> int | None:
        rows = _held_last(cluster=cluster_id, hi=hi)
        last = rows[0]["last"] if rows else None
        return last if last is not None and last >= lo else None

    return overlap


def _lookups(cluster: Cluster) -> tuple[ipam.OverlapFn, Callable[[int], int | None]]:
    """Overlap and cover lookups over held and reserved blocks; the reserved ones are read once per
    locked row (choosing a block and then moving the floor past it ask the same)."""
    lookups = getattr(cluster, "_allocation_lookups", None)
    if lookups is None:
        reserved = ipam.IntervalIndex(ipam.to_range(r.network) for r in _reserved(cluster))
        overlap = ipam.combine(_held_overlap(cluster.pk), reserved.overlap)
        # kept on the locked row itself, for as long as the caller holds it
        lookups = cluster._allocation_lookups = (overlap, lambda x: overlap(x, x))  # type: ignore[attr-defined]
    return lookups


def _advance_floor(
    cluster: Cluster, cover: Callable[[int], int | None], *, persist: bool = True, writes: Writes | None = None
) -> None:
    """Move the floor to the first address not known to be taken, and persist it (the row's value may lag
    the in-memory one); with `writes`, among them."""
    floor = ipam.advance_floor(allocation_floor(cluster), cover=cover)
    if writes is not None:
        writes.add(*_floor_persist.statement(pk=cluster.pk, floor=floor))
    elif persist:
        _floor_persist(pk=cluster.pk, floor=floor)
    cluster.allocation_floor = floor


def _describe(network: Network | None, owner: str | None) -> str:
    if owner:
        return owner
    return f'network "{network.name}"' if network else "unnamed holder"


def subnet_check(*, cluster: Cluster, subnet: str, tenant=None) -> ipaddress.IPv4Network:
    """The block a user asked for, refused as `subnet_allocate` would refuse it, without holding it.

    The create form asks this while the user types; `subnet_allocate` asks it again inside the lock.
    A refusal names the holder only when it is the asking tenant's own (or shared) network.
    """
    block = ipam.parse_subnet(subnet)
    taken = held_overlapping(cluster, block, tenant)
    ipam.check_subnet(block, pool=cluster.pool, reserved=_reserved(cluster), taken=taken)
    return block


@transaction.atomic
def subnet_allocate(
    *,
    cluster: Cluster,
    network: Network | None = None,
    owner: str | None = None,
    subnet: str | None = None,
    prefixlen: int | None = None,
    tenant=None,
) -> SubnetAllocation:
    """Hold a block for `network`: the one asked for (validated), or the first free one.

    Raises `ipam.IpamError` with a sentence for every refusal; `ipam.PoolExhausted` when no block
    of the size is left (HTTP 409 in the API).
    """
    cluster = cluster_lock(cluster.pk)
    block = subnet_choose(cluster=cluster, subnet=subnet, prefixlen=prefixlen, tenant=tenant)
    return subnet_hold(cluster=cluster, block=block, network=network, owner=owner)


def subnet_choose(
    *, cluster: Cluster, subnet: str | None = None, prefixlen: int | None = None, tenant=None
) -> ipaddress.IPv4Network:
    """The block `subnet_hold` is to hold: the one asked for (validated), or the first free one.

    `cluster` is the row as the swarm's lock returned it (`cluster_lock`, or `grant_check_room`'s
    grant), in the transaction that then holds the block.
    """
    if subnet:
        return subnet_check(cluster=cluster, subnet=subnet, tenant=tenant)
    overlap, _ = _lookups(cluster)
    return ipam.first_fit(
        cluster.pool,
        cluster.default_prefixlen if prefixlen is None else prefixlen,
        overlap=overlap,
        floor=cluster.allocation_floor,
    )


def subnet_hold(
    *,
    cluster: Cluster,
    block: ipaddress.IPv4Network,
    network: Network | None = None,
    owner: str | None = None,
) -> SubnetAllocation:
    """Record the block `subnet_choose` chose, under the same lock, and move the cluster's floor past it."""
    allocation = _network_block(cluster=cluster, block=block, network=network, owner=owner)
    first, last = allocation.first, allocation.last
    try:
        allocation.save(force_insert=True)  # no savepoint: a violation aborts the whole allocation anyway
    except IntegrityError as exc:
        # Only reachable when something bypassed the lock; the constraint keeps the promise.
        raise SubnetConflict(
            "subnet_taken", f"{block} was taken at the same moment by another request. Try again.", "subnet"
        ) from exc
    if cluster.allocation_floor is not None and first <= cluster.allocation_floor <= last:
        cluster.allocation_floor = last + 1  # the block just made covers the floor: skip one lookup
    _advance_floor(cluster, _lookups(cluster)[1])
    return allocation


def _network_block(*, cluster: Cluster, block: ipaddress.IPv4Network, network, owner: str | None) -> SubnetAllocation:
    """The row that holds `block` for `network` (not saved yet)."""
    first, last = ipam.to_range(block)
    return SubnetAllocation(
        cluster=cluster,
        network=network,
        cidr=str(block),
        first=first,
        last=last,
        kind=SubnetAllocation.Kind.NETWORK,
        owner=_describe(network, owner),
    )


def held_from_floor(cluster_id: int, floor: int | Combinable, count: int):
    """The held blocks from `floor` up that choosing `count` blocks may step over (create.py reads it with a name)."""
    rows = SubnetAllocation.objects.filter(cluster_id=cluster_id, last__gte=floor).order_by("first")
    return rows.values("first", "last")[: 2 * count + 8]  # a few more than `count`: the batch's window


def allocation_floor(cluster: Cluster) -> int:
    """The first address of the swarm's pool not known to be taken (`cluster` the locked row)."""
    return cluster.allocation_floor if cluster.allocation_floor is not None else int(cluster.pool.network_address)


def subnets_batch_begin(
    *,
    cluster: Cluster,
    count: int,
    held: list[tuple[int, int]] | None = None,
    reserved: list[ipam.Reserved] | None = None,
) -> None:
    """Under the swarm's lock (`cluster` the locked row), before `count` networks choose their blocks: the held
    blocks from the floor up (`held_from_floor`, or `held` when read already) so that each choice and the floor's
    moves ask memory (past the last block read, or below the floor, the database); the blocks are added as chosen
    (`subnet_hold_pending`) and written together (`subnets_hold`). `reserved`: read before the lock, or here."""
    floor = allocation_floor(cluster)
    if held is None:
        held = [(row["first"], row["last"]) for row in held_from_floor(cluster.pk, floor, count)]
    rows = sorted(held)
    known_to = rows[-1][0] if len(rows) == 2 * count + 8 else None  # the window full: every block up to here read
    index = ipam.IntervalIndex(rows)
    database = _held_overlap(cluster.pk)

    def overlap(lo: int, hi: int) -> int | None:
        if lo >= floor and (known_to is None or hi <= known_to):
            return index.overlap(lo, hi)
        return max((end for end in (index.overlap(lo, hi), database(lo, hi)) if end is not None), default=None)

    if reserved is not None:
        cluster._reserved_ranges = reserved  # type: ignore[attr-defined]
    reserved_index = ipam.IntervalIndex(ipam.to_range(r.network) for r in _reserved(cluster))
    combined = ipam.combine(overlap, reserved_index.overlap)
    cluster._allocation_lookups = (combined, lambda x: combined(x, x))  # type: ignore[attr-defined]
    cluster._batch_held = index  # type: ignore[attr-defined]
    cluster._batch_pending = []  # type: ignore[attr-defined]


def subnet_hold_pending(*, cluster: Cluster, block: ipaddress.IPv4Network, network: Network) -> SubnetAllocation:
    """subnet_hold for a batch begun with `subnets_batch_begin`: the block held in memory (the batch's next
    choices see it taken) and the floor moved past it in memory; written by `subnets_hold`."""
    allocation = _network_block(cluster=cluster, block=block, network=network, owner=None)
    first, last = allocation.first, allocation.last
    cluster._batch_held.add(first, last)  # type: ignore[attr-defined]
    cluster._batch_pending.append(allocation)  # type: ignore[attr-defined]
    if cluster.allocation_floor is not None and first <= cluster.allocation_floor <= last:
        cluster.allocation_floor = last + 1
    _advance_floor(cluster, _lookups(cluster)[1], persist=False)
    return allocation


def subnets_hold(*, cluster: Cluster, writes: Writes | None = None) -> list[SubnetAllocation]:
    """The blocks held in memory (`subnet_hold_pending`, their networks written), in one INSERT, and the floor
    persisted, under the same lock; with `writes`, among them (a violation then fails the whole when sent)."""
    allocations = cluster._batch_pending  # type: ignore[attr-defined]
    try:
        if writes is not None:
            writes.insert(allocations)
        else:  # no savepoint: a violation aborts the batch anyway
            SubnetAllocation.objects.bulk_create(allocations)
    except IntegrityError as exc:
        # Only reachable when something bypassed the lock; the constraint keeps the promise.
        raise SubnetConflict(
            "subnet_taken", "A block was taken at the same moment by another request. Try again.", "subnet"
        ) from exc
    cluster._batch_pending = []  # type: ignore[attr-defined]
    _advance_floor(cluster, _lookups(cluster)[1], writes=writes)
    return allocations


@transaction.atomic
def subnet_import_external(*, cluster: Cluster, cidr: str, owner: str) -> SubnetAllocation | None:
    """Block the subnet of a network the portal did not make (the swarm's ingress, a CLI network).

    Idempotent; a subnet already held (or overlapping a held block) is left as it is.
    """
    cluster = cluster_lock(cluster.pk)
    block = ipaddress.IPv4Network(cidr, strict=False)
    if held_overlapping(cluster, block):
        return None
    first, last = ipam.to_range(block)
    allocation = SubnetAllocation.objects.create(
        cluster=cluster, cidr=str(block), first=first, last=last, kind=SubnetAllocation.Kind.EXTERNAL, owner=owner
    )
    _, cover = _lookups(cluster)
    _advance_floor(cluster, cover)
    return allocation


@transaction.atomic
def subnet_step_past(*, network: Network, taken: list[ipaddress.IPv4Network], owner: str) -> SubnetAllocation:
    """The swarm already holds `network`'s block (a network, or another writer's reservation, that the
    portal did not know of): record what it holds as held, as a network made outside the portal is, and
    hold the next free block of the same size for `network` instead, under the same lock. Only for a
    block the portal chose.

    A taken block overlapping one already held is skipped; when none of them covers the network's own
    block, that block is recorded, so the next choice cannot land on it again."""
    cluster = cluster_lock(network.cluster_id)
    old = SubnetAllocation.objects.get(network=network)
    old_block = ipaddress.IPv4Network(old.cidr)
    old.delete()
    for block in taken:
        subnet_import_external(cluster=cluster, cidr=str(block), owner=owner)
    if not held_overlapping(cluster, old_block):
        subnet_import_external(cluster=cluster, cidr=old.cidr, owner=owner)
    cluster = cluster_lock(cluster.pk)  # the floor as the imports left it
    block = subnet_choose(cluster=cluster, prefixlen=old_block.prefixlen)
    network.subnet = str(block)
    network.gateway = str(ipam.default_gateway(block))
    network.save(update_fields=["subnet", "gateway", "updated"])
    return subnet_hold(cluster=cluster, block=block, network=network)


@transaction.atomic
def subnet_release(*, allocation: SubnetAllocation) -> None:
    """Free a block; first fit hands it out again before anything above it."""
    cluster = cluster_lock(allocation.cluster_id)
    allocation.delete()
    if cluster.allocation_floor is None or allocation.first < cluster.allocation_floor:
        Cluster.objects.filter(pk=cluster.pk).update(allocation_floor=allocation.first)
