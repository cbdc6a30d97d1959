"""Subnet and address allocation: never two holders of one block, in Carina's order.

Every allocation runs inside a per-cluster lock (the cluster row, `select_for_update`), computes
its answer inside the lock, and is backed by the database (unique start address everywhere, an
exclusion constraint on PostgreSQL). The choice costs a few index lookups whatever the number of
allocations: the walk starts at the cluster's persisted floor (everything below it is taken) and
jumps from one held block to the end of the next.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction

from networks import ipam
from networks.engine import consul as consul_engine
from networks.models import AddressAllocation, Cluster, Network, ReservedRange, SubnetAllocation

from .state import subnet_key


class SubnetConflict(ipam.IpamError):
    """The cluster's state store says another writer already holds the block."""


def cluster_lock(cluster_id: int) -> Cluster:
    """Take the swarm's allocation lock (its cluster row) until the transaction ends; every tenant's
    allocations and grant limits on the swarm are decided under it."""
    return Cluster.objects.select_for_update().get(pk=cluster_id)


def _reserved(cluster: Cluster) -> list[ipam.Reserved]:
    return [
        ipam.Reserved(r.network, r.description, servicenet=r.is_servicenet)
        for r in ReservedRange.objects.filter(cluster=cluster)
    ]


def _held_overlap(cluster_id: int) -> ipam.OverlapFn:
    """Overlap lookup over held blocks; they never overlap each other, so one index probe is enough."""

    def overlap(lo: int, hi: int) -> int | None:
        last = (
            SubnetAllocation.objects.filter(cluster_id=cluster_id, first__lte=hi)
            .order_by("-first")
            .values_list("last", flat=True)
            .first()
        )
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


def _held_overlapping(cluster: Cluster, subnet: ipaddress.IPv4Network, tenant=None) -> list[ipam.Taken]:
    """The held block overlapping `subnet`, named as `tenant` may see it (another team's is not named)."""
    lo, hi = ipam.to_range(subnet)
    row = (
        SubnetAllocation.objects.filter(cluster=cluster, first__lte=hi)
        .select_related("network")
        .order_by("-first")
        .first()
    )
    if row is None or row.last < lo:
        return []
    owner = row.owner
    if tenant is not None and not (row.network and row.network.is_usable_by(tenant)):
        owner = (
            "a network made outside the portal"
            if row.kind == SubnetAllocation.Kind.EXTERNAL
            else "another team's network"
        )
    return [ipam.Taken(row.subnet, owner)]


def _advance_floor(cluster: Cluster, cover: Callable[[int], int | None], *, persist: bool = True) -> None:
    """Move the floor to the first address not known to be taken, and persist it (the row's value may lag
    the in-memory one)."""
    start = cluster.allocation_floor if cluster.allocation_floor is not None else int(cluster.pool.network_address)
    floor = ipam.advance_floor(start, cover=cover)
    if persist:
        Cluster.objects.filter(pk=cluster.pk).update(allocation_floor=floor)
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
    taken = _held_overlapping(cluster, block, tenant)
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
    persist_floor: bool = True,
) -> SubnetAllocation:
    """Record the block `subnet_choose` chose, under the same lock, and move the cluster's floor past it.

    `persist_floor` False: the floor moves in memory only, and the caller persists it once after several
    holds (`subnet_floor_advance`)."""
    first, last = ipam.to_range(block)
    try:
        # No savepoint: a violation aborts the whole allocation anyway.
        allocation = SubnetAllocation.objects.create(
            cluster=cluster,
            network=network,
            cidr=str(block),
            first=first,
            last=last,
            kind=SubnetAllocation.Kind.NETWORK,
            owner=_describe(network, owner),
        )
    except IntegrityError as exc:
        # Only reachable when something bypassed the lock; the constraint keeps the promise.
        raise SubnetConflict(
            "subnet_taken", f"{block} was taken at the same moment by another request. Try again.", "subnet"
        ) from exc
    if cluster.allocation_floor is not None and first <= cluster.allocation_floor <= last:
        cluster.allocation_floor = last + 1  # the block just made covers the floor: skip one lookup
    _advance_floor(cluster, _lookups(cluster)[1], persist=persist_floor)
    return allocation


def subnet_floor_advance(*, cluster: Cluster) -> None:
    """Move the cluster's floor past the blocks held below it and persist it, under the swarm's lock."""
    _advance_floor(cluster, _lookups(cluster)[1])


@transaction.atomic
def subnet_import_external(*, cluster: Cluster, cidr: str, owner: str) -> SubnetAllocation | None:
    """Block the subnet of a network the portal did not make (the swarm's ingress, a CLI network).

    Idempotent; a subnet already held (or overlapping a held block) is left as it is.
    """
    cluster = cluster_lock(cluster.pk)
    block = ipaddress.IPv4Network(cidr, strict=False)
    if _held_overlapping(cluster, block):
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
    if not _held_overlapping(cluster, old_block):
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


# --- the Consul mirror (run by workers only: web requests never talk to Consul) --------------


def subnet_reserve_in_consul(*, allocation: SubnetAllocation) -> None:
    """Create the block's key with check-and-set 0: a second writer fails instead of overwriting."""
    cluster = allocation.cluster
    key, value = subnet_reservation(allocation)
    if consul_engine.kv_put(cluster.consul, key, value, cas=0):
        return
    existing = consul_engine.kv_get(cluster.consul, key)
    if existing and json.loads(existing).get("allocation") == allocation.pk:
        return  # our own key, written by an earlier try of the same task
    raise SubnetConflict(
        "subnet_taken_in_store",
        f"{allocation.cidr} is already reserved in the cluster's state store by another writer. "
        "Reconcile the cluster, then try again.",
        "subnet",
    )


def subnets_reserve_in_consul(*, cluster: Cluster, allocations: list[SubnetAllocation]) -> bool:
    """Create the keys of many blocks of `cluster` with check-and-set 0, in Consul transactions: False when
    one of them exists already (then that transaction wrote none: reserve each alone, which tells a block
    of ours from another writer's)."""
    return consul_engine.kv_put_all(cluster.consul, [subnet_reservation(a) for a in allocations], create=True)


def subnet_reservation(allocation: SubnetAllocation) -> tuple[str, str]:
    """The block's key in the cluster's state store and the value this portal writes there."""
    key = subnet_key(allocation.cluster, allocation.cidr)
    value = json.dumps(
        {
            "allocation": allocation.pk,
            "cidr": allocation.cidr,
            "owner": allocation.owner,
            "network": allocation.network_id,
            "tenant": allocation.network.tenant.slug if allocation.network and allocation.network.tenant else "",
        },
        sort_keys=True,
    )
    return key, value


def subnet_reservations_elsewhere(*, cluster: Cluster) -> dict[str, str]:
    """The blocks other writers on the swarm (another portal) reserved in its state store, CIDR -> the
    owner they wrote: every reservation that is not one of this portal's allocations."""
    tree = consul_engine.kv_get_tree(cluster.consul, f"{cluster.consul_prefix}/subnets/")
    ours = set(SubnetAllocation.objects.filter(cluster=cluster).values_list("cidr", "pk"))
    found = {}
    for raw in tree.values():
        try:
            document = json.loads(raw)
            cidr = str(ipaddress.IPv4Network(document["cidr"], strict=False))
        except (ValueError, KeyError, TypeError):
            continue
        if (cidr, document.get("allocation")) not in ours:
            found[cidr] = str(document.get("owner") or "another writer")
    return found


def subnet_release_in_consul(*, cluster: Cluster, cidr: str) -> None:
    consul_engine.kv_delete(cluster.consul, subnet_key(cluster, cidr))


# --- addresses inside a network ---------------------------------------------------------------


@transaction.atomic
def address_allocate(*, network: Network, owner: str, requested: str | None = None) -> AddressAllocation:
    """Hold an IPv4 address of `network` for a container: the one asked for (validated) or the first free."""
    network = Network.objects.select_for_update().get(pk=network.pk)
    subnet = network.subnet_network
    gateway = ipaddress.IPv4Address(network.gateway)
    used = {ipaddress.IPv4Address(a) for a in network.address_allocations.values_list("address", flat=True)}
    address = ipam.check_address(
        requested,
        subnet,
        gateway=gateway,
        used=used,
        ip_range=ipaddress.IPv4Network(network.ip_range) if network.ip_range else None,
        aux=ipam.address_holders(network.aux_addresses),
    )
    try:
        with transaction.atomic():
            return AddressAllocation.objects.create(network=network, address=str(address), owner=owner)
    except IntegrityError as exc:
        raise ipam.IpamError(
            "address_in_use", f"{address} was taken at the same moment by another container. Try again.", "ip_address"
        ) from exc


def address_record(*, network: Network, address: str, owner: str) -> AddressAllocation:
    """Record the address Docker's IPAM gave a container (idempotent)."""
    allocation, _ = AddressAllocation.objects.update_or_create(
        network=network, address=address, defaults={"owner": owner}
    )
    return allocation


def address_release(*, network: Network, address: str) -> None:
    AddressAllocation.objects.filter(network=network, address=address).delete()
