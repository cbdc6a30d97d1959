"""Creating an overlay network: the request (validate, choose and hold a block, record, enqueue) in three
steps a batch shares (batch.py). The worker's run, and what a failed create leaves tidied up: create_run.py."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BigIntegerField, Subquery, Value
from django.db.models.functions import Coalesce

from networks import ipam
from networks import labels as docker_labels
from networks.models import Cluster, Network, Operation, SubnetAllocation
from plumbing.errors import ServiceError
from plumbing.prepared import PreparedRows, Read
from plumbing.transactions import retried_on_deadlock
from plumbing.writes import Writes
from portal.actors import Actor
from portal.changes import changes_foreseen
from portal.models import AuditEntry

from ..allocations import (
    held_from_floor,
    subnet_choose,
    subnet_hold_pending,
    subnets_batch_begin,
    subnets_hold,
    subnets_reserved_of,
    subnets_reserved_read,
)
from ..grants import grant_check_room
from ..operations import operation_new, operations_create
from ..records import operation_changes_record
from .rules import check_mtu, check_name, check_name_free, mtu_warning, names_taken

logger = logging.getLogger(__name__)

# A batch's creates go to the workers in messages of up to this many (run_together.py), so that a
# batch of 50 is shared by two workers and each makes its Docker networks side by side.
RUN_TOGETHER = 25


@dataclass(frozen=True)
class NetworkAsked:
    """One create as asked, its own fields checked (`network_asked`): nothing here needs the swarm's lock."""

    name: str
    subnet: str = ""
    prefixlen: int | None = None
    gateway: str = ""
    internal: bool = False
    encrypted: bool = False
    labels: dict = field(default_factory=dict)
    ip_range: str = ""
    aux_addresses: dict[str, str] | list[tuple[str, str]] | None = None
    mtu: int | None = None
    attachable: bool = True


@dataclass(frozen=True)
class NetworkPlan:
    """What `network_plan` decided under the swarm's lock for one create: its block and addresses."""

    asked: NetworkAsked
    block: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    ip_range: ipaddress.IPv4Network | None
    aux_addresses: dict


@retried_on_deadlock
def network_create(
    *,
    actor: Actor,
    tenant,
    cluster: Cluster,
    name: str,
    subnet: str = "",
    prefixlen: int | None = None,
    gateway: str = "",
    internal: bool = False,
    encrypted: bool = False,
    labels: dict | None = None,
    ip_range: str = "",
    aux_addresses: dict[str, str] | list[tuple[str, str]] | None = None,
    mtu: int | None = None,
    attachable: bool = True,
    writes: Writes | None = None,
) -> Operation:
    """Validate, hold a subnet, record the network and its operation, and enqueue the work.

    `ip_range`, `aux_addresses`, `mtu` and `attachable` are `docker network create`'s `--ip-range`,
    `--aux-address`, `--opt com.docker.network.driver.mtu` and `--attachable`. A range or auxiliary
    addresses need the subnet given with them (a block the portal chose may move to the next free one).

    Everything from the swarm's lock to the commit is a few index lookups and inserts: every create on
    the swarm waits for it. So all that does not depend on the block is read before it, and under it go
    two round trips: the lock with the held blocks' read, then the rows with the commit (`writes`: with the
    caller's, when it gives them and sends them). Made again when PostgreSQL chose it as a deadlock's victim.
    A batch (batch.py) takes the same steps for its networks, under one lock.
    """
    asked = network_asked(
        name=name,
        subnet=subnet,
        prefixlen=prefixlen,
        gateway=gateway,
        internal=internal,
        encrypted=encrypted,
        labels=labels,
        ip_range=ip_range,
        aux_addresses=aux_addresses,
        mtu=mtu,
        attachable=attachable,
    )
    own = writes is None  # `writes`: the caller sends the rows, with its own (an API create's stored answer)
    writes = Writes() if writes is None else writes
    # Read before the lock, in one round trip: the reserved ranges (staff change them without it), what the change's
    # outboxes read of the team (changes_foreseen: its webhook endpoints), and the rows' keys.
    reserved_read = subnets_reserved_read(cluster_id=cluster.pk)
    together = connection.features.supports_slicing_ordering_in_compound and type(asked.name) is str  # not SQLite
    start = int(cluster.pool.network_address)
    read = Read(_held_and_name, {"cluster": cluster.pk, "start": start, "name": asked.name}) if together else None
    keys = (Network, SubnetAllocation, Operation, AuditEntry)
    with changes_foreseen(tenant=tenant, send=lambda *ahead: writes.reserve(*keys, reads=(reserved_read, *ahead))):
        reserved = subnets_reserved_of(reserved_read)
        cluster = grant_check_room(cluster=cluster, tenant=tenant, networks=1, then=read).cluster  # the swarm's lock
        taken = _locked_reads(cluster=cluster, name=asked.name, reserved=reserved, read=read)
        plan = network_plan(cluster=cluster, tenant=tenant, asked=asked, taken=taken)
        operation = network_record(actor=actor, tenant=tenant, cluster=cluster, plan=plan, writes=writes)
        if own:
            writes.send(commit=True)  # the lock let go with the rows: nothing is sent in this transaction after them
        return operation


def _locked_reads(*, cluster: Cluster, name: str, reserved: list[ipam.Reserved], read: Read | None) -> set[str]:
    """Under the swarm's lock (until commit), from `read`, sent with the lock in one round trip: whether the name
    is taken (the names taken among [name]), and the held blocks from the floor up, from which the block is
    then chosen in memory as a batch's are (`subnets_batch_begin`). Every create on the swarm waits while the
    lock is held: each round trip under it costs them all the trip, and the wait for a core and the interpreter
    after it. Without `read` (SQLite), two statements."""
    if read is None:
        subnets_batch_begin(cluster=cluster, count=1, reserved=reserved)
        return names_taken(cluster, [name])
    rows = read.rows or []
    held = [(row["first"], row["last"]) for row in rows if row["first"] >= 0]
    subnets_batch_begin(cluster=cluster, count=1, held=held, reserved=reserved)
    return {name} if len(held) < len(rows) else set()


def _held_and_name_query(cluster: int, start: int, name: str):
    """The held blocks from the swarm's floor up (its row read in the statement: sent after the lock, it sees
    the floor the lock's last holder left; `start` the pool's first address when it has none), and a row of
    -1s when a live network of the swarm has the name."""
    floor = Coalesce(
        Subquery(Cluster.objects.filter(pk=cluster).order_by().values("allocation_floor")[:1]),
        Value(start),
        output_field=BigIntegerField(),
    )
    named = Network.objects.filter(cluster_id=cluster, name=name).live().order_by()
    return held_from_floor(cluster, floor, 1).union(named.values(first=Value(-1), last=Value(-1)), all=True)


_held_and_name = PreparedRows(_held_and_name_query, "cluster", "start", text=("name",))  # compiled once


def network_asked(*, name: str, labels: dict | None = None, mtu: int | None = None, **fields) -> NetworkAsked:
    """One create's own fields checked and tidied (name, labels, MTU, a range or addresses without a subnet)."""
    asked = NetworkAsked(name=check_name(name), labels=docker_labels.labels_check(labels), mtu=check_mtu(mtu), **fields)
    _check_subnet_given(asked.subnet, ip_range=asked.ip_range, aux_addresses=asked.aux_addresses)
    return asked


def network_plan(*, cluster: Cluster, tenant, asked: NetworkAsked, taken: set[str] | None = None) -> NetworkPlan:
    """Under the swarm's lock (`cluster` is the locked row): the name free, the block chosen or checked, the
    gateway, range and auxiliary addresses in it. Reads only: a refusal here leaves nothing to undo.

    `taken`: the names a batch found taken among its own, under the same lock (`names_taken`)."""
    check_name_free(cluster, asked.name, taken=taken)
    subnet = (asked.subnet or "").strip() or None
    block = subnet_choose(cluster=cluster, subnet=subnet, prefixlen=asked.prefixlen, tenant=tenant)
    gateway_address = ipam.parse_gateway(asked.gateway, block)
    address_range = ipam.parse_ip_range(asked.ip_range, block, gateway=gateway_address)
    aux = ipam.parse_aux_addresses(asked.aux_addresses or {}, block, gateway=gateway_address, ip_range=address_range)
    return NetworkPlan(asked=asked, block=block, gateway=gateway_address, ip_range=address_range, aux_addresses=aux)


def network_record(*, actor: Actor, tenant, cluster: Cluster, plan: NetworkPlan, writes: Writes) -> Operation:
    """Under the same lock: the network, its block held, its operation and the change's record, gathered in
    `writes` (its keys reserved for them) to be sent in one round trip."""
    network = network_new(actor=actor, tenant=tenant, cluster=cluster, plan=plan)
    writes.insert([network])
    subnet_hold_pending(cluster=cluster, block=plan.block, network=network)
    subnets_hold(cluster=cluster, writes=writes)
    return networks_queue(actor=actor, tenant=tenant, cluster=cluster, held=[(network, plan)], writes=writes)[0]


def network_new(*, actor: Actor, tenant, cluster: Cluster, plan: NetworkPlan) -> Network:
    """The network's row as `network_record` records it, not saved yet: a batch writes its rows together."""
    asked = plan.asked
    return Network(
        tenant=tenant,
        cluster=cluster,
        name=asked.name,
        subnet=str(plan.block),
        gateway=str(plan.gateway),
        internal=asked.internal,
        encrypted=asked.encrypted,
        labels=asked.labels,
        ip_range=str(plan.ip_range or ""),
        aux_addresses={device: str(address) for device, address in plan.aux_addresses.items()},
        mtu=asked.mtu,
        attachable=bool(asked.attachable),
        created_by=actor.user,
    )


def networks_queue(
    *, actor: Actor, tenant, cluster: Cluster, held: list[tuple[Network, NetworkPlan]], writes: Writes | None = None
) -> list[Operation]:
    """The networks held: an operation each and a `network.create` change each, each kind in one INSERT, their
    messages sent together when the transaction commits. `writes`: the INSERTs among them (`changes_record`)."""
    operations = [
        operation_new(
            tenant=tenant,
            cluster=cluster,
            kind=Operation.Kind.NETWORK_CREATE,
            target=network.name,
            user=actor.user,
            network=network,
            params={
                "subnet": str(plan.block),
                "gateway": str(plan.gateway),
                "internal": network.internal,
                "encrypted": network.encrypted,
                "ip_range": network.ip_range,
                "aux_addresses": network.aux_addresses,
                "mtu": network.mtu,
                "attachable": network.attachable,
                "warnings": [warning] if (warning := mtu_warning(cluster, network.mtu)) else [],
                # the portal may move a block it chose when the swarm turns out to hold it (services/builds.py)
                "block_chosen_by_portal": not (plan.asked.subnet or "").strip()
                and not (plan.asked.gateway or "").strip(),
            },
        )
        for network, plan in held
    ]
    operations_create(operations, together=RUN_TOGETHER, writes=writes)
    operation_changes_record(actor=actor, action="network.create", operations=operations, writes=writes)
    return operations


def _check_subnet_given(subnet: str, *, ip_range: str, aux_addresses) -> None:
    if (subnet or "").strip():
        return
    if (ip_range or "").strip():
        raise ServiceError(
            "subnet_required",
            "An IP range is part of a subnet: give the subnet too, such as 10.0.42.0/24 with the range 10.0.42.128/25.",
            field="ip_range",
        )
    if aux_addresses:
        raise ServiceError(
            "subnet_required",
            "Auxiliary addresses are addresses of a subnet: give the subnet too, such as 10.0.42.0/24.",
            field="aux_addresses",
        )
