"""Creating many overlay networks in one request (`POST /api/v1/networks/batch/`).

Each network takes a single create's steps (create.py: its fields checked; under the swarm's lock its
block planned and held with its row; then its operation and its change), all in one transaction under
one lock per swarm. The blocks are chosen in memory from the held ones read once (allocations.py,
`subnets_batch_begin`), and the rows and blocks are each written in one INSERT. One operation each: each is followed, retried and audited as a single create is (one
`network.create` change each, so webhooks and the audit log see every network); the operations and the
changes are each written in one INSERT, and their messages go to the workers together when the
transaction commits. The workers make the Docker networks side by side.

A network refused (its fields, a name taken or repeated in the batch, a subnet clashing, the grant's limit)
is reported at its place and the others are made. When the team's grant has room for only some, the first
ones in the batch's order that can be made are made and the rest are refused with `limit_reached`.
"""

from __future__ import annotations

from dataclasses import dataclass

from networks.models import Cluster, Network, Operation
from plumbing.errors import ServiceError
from plumbing.transactions import retried_on_deadlock
from portal.actors import Actor

from ..allocations import subnet_hold_pending, subnets_batch_begin, subnets_hold
from ..grants import grant_network_room
from .create import NetworkAsked, NetworkPlan, network_asked, network_new, network_plan, networks_queue
from .rules import names_taken

BATCH_MAX = 100


@dataclass(frozen=True)
class BatchItem:
    """One network of a batch as the request gave it: its place and name, and its cluster and fields once
    the edge has read them, or the edge's refusal (a ServiceError, or the API's error shape as a dict)."""

    index: int
    name: str
    cluster: Cluster | None = None
    fields: dict | None = None
    refusal: ServiceError | dict | None = None


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one network of a batch: its operation, or why it was not made."""

    item: BatchItem
    operation: Operation | None = None
    error: ServiceError | dict | None = None


def check_batch_size(count: int) -> None:
    """A batch makes 1 to BATCH_MAX networks."""
    if count == 0:
        raise ServiceError(
            "batch_empty",
            'The batch is empty: send a list of 1 to 100 networks, such as [{"name": "web"}, {"name": "db"}].',
        )
    if count > BATCH_MAX:
        raise ServiceError(
            "batch_too_large",
            f"A batch makes at most {BATCH_MAX} networks and this one has {count}. "
            f"Send them in batches of {BATCH_MAX} or fewer.",
        )


@retried_on_deadlock
def networks_create_batch(*, actor: Actor, tenant, items: list[BatchItem]) -> list[BatchOutcome]:
    """Make every network of the batch that can be made: one outcome per item, in the batch's order.

    An item the edge refused keeps its refusal. Swarms are locked in the order of their ids (two batches
    on the same two swarms never wait for each other in a circle).
    """
    check_batch_size(len(items))
    outcomes: dict[int, BatchOutcome] = {}
    asked: dict[int, list[tuple[BatchItem, NetworkAsked]]] = {}
    clusters: dict[int, Cluster] = {}
    seen: dict[tuple[int, str], int] = {}
    for item in items:
        if item.refusal is not None or item.cluster is None:
            outcomes[item.index] = BatchOutcome(item, error=item.refusal)
            continue
        try:
            ask = network_asked(**(item.fields or {}))
        except ServiceError as error:
            outcomes[item.index] = BatchOutcome(item, error=error)
            continue
        first = seen.setdefault((item.cluster.pk, ask.name), item.index)
        if first != item.index:
            outcomes[item.index] = BatchOutcome(item, error=_repeated(ask.name, first, item.index))
            continue
        asked.setdefault(item.cluster.pk, []).append((item, ask))
        clusters[item.cluster.pk] = item.cluster
    made: list[Operation] = []
    placed: list[BatchItem] = []
    for cluster_id in sorted(asked):
        held: list[tuple[Network, NetworkPlan]] = []
        group = asked[cluster_id]
        room = grant_network_room(cluster=clusters[cluster_id], tenant=tenant)  # the swarm's lock, until commit
        cluster, free = room.grant.cluster, room.free
        taken = names_taken(cluster, [ask.name for _, ask in group])
        subnets_batch_begin(cluster=cluster, count=len(group))
        for item, ask in group:
            if free is not None and free <= 0:
                outcomes[item.index] = BatchOutcome(item, error=room.refusal(len(group)))
                continue
            try:
                plan = network_plan(cluster=cluster, tenant=tenant, asked=ask, taken=taken)
            except ServiceError as error:
                outcomes[item.index] = BatchOutcome(item, error=error)
                continue
            network = network_new(actor=actor, tenant=tenant, cluster=cluster, plan=plan)
            subnet_hold_pending(cluster=cluster, block=plan.block, network=network)
            held.append((network, plan))
            placed.append(item)
            free = None if free is None else free - 1
        if held:  # the rows, then their blocks, each in one INSERT
            Network.objects.bulk_create([network for network, _ in held])
            subnets_hold(cluster=cluster)
        made.extend(networks_queue(actor=actor, tenant=tenant, cluster=cluster, held=held))
    for item, operation in zip(placed, made, strict=True):
        outcomes[item.index] = BatchOutcome(item, operation=operation)
    return [outcomes[item.index] for item in items]


def _repeated(name: str, first: int, again: int) -> ServiceError:
    return ServiceError(
        "name_repeated",
        f'The batch names "{name}" twice (items {first} and {again}): each network needs a name of its own. '
        "Rename one, or leave it out.",
        field="name",
        http_status=409,
    )
