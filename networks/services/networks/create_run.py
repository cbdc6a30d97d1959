"""A network create's run in the worker: Consul's reservation, Docker's network, the state store's record,
then the network active and its operation succeeded together (a batch's slice: run_together.py); and what
a create that failed leaves tidied up."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from networks.engine import EngineError
from networks.models import Network, Operation, SubnetAllocation
from plumbing.bulk import rows_update
from plumbing.prepared import PreparedRows, Read
from plumbing.writes import Writes
from portal.changes import changes_foreseen
from portal.models import AuditEntry

from ..allocations import subnet_release, subnet_release_in_consul
from ..builds import network_build, network_reserve, network_unmake
from ..operations import operation_locked_read, operation_progress, operation_succeed
from ..operations_together import operations_succeed
from ..state import state_network_write
from .rules import set_status

logger = logging.getLogger(__name__)

WRITING_STATE = "Writing the network to the cluster's state store."


def network_create_run(*, operation: Operation) -> None:
    """Make the Docker network; a retried or duplicated run finds the one it made by its labels."""
    network = operation.network_required()
    if network.status == Network.Status.ACTIVE and network.docker_id:
        operation_succeed(operation=operation, message="The network already exists.", result={"id": network.docker_id})
        return
    network_reserve(operation=operation, network=network)
    attrs = network_build(operation=operation, network=network)
    network.docker_id = attrs["Id"]
    operation_progress(operation=operation, message=WRITING_STATE)
    state_network_write(network=network)
    network_create_end(operation=operation, network=network)


def network_create_end(*, operation: Operation, network: Network) -> None:
    """Once the cluster and Consul both have it: the network active and its create succeeded, together. The
    network's row and the operation's are locked and read in one round trip, with what the change's outboxes
    read of the team and its audit entry's key (plumbing/writes.py `reserve`); the writes (the two rows, the
    entry, its outboxes' rows) go in another, with the COMMIT when no outbox waits to write (`send`)."""
    with transaction.atomic():
        status, locked = Read(_status_locked, {"pk": network.pk}), operation_locked_read(operation.pk)
        writes, tenant = Writes(), operation.tenant
        assert tenant is not None, "the portal builds only a team's networks"

        def ahead(*reads: Read) -> None:
            writes.reserve(AuditEntry, reads=(status, locked, *reads))

        with changes_foreseen(tenant=tenant, send=ahead):
            if not status.rows:
                raise Network.DoesNotExist(f"network {network.pk} does not exist")
            if not locked.rows:
                raise Operation.DoesNotExist(f"operation {operation.pk} does not exist")
            network.status = status.rows[0]["status"]
            network_activate(operation=operation, network=network, locked=locked.rows[0], writes=writes)
            writes.send(commit=True)


# The network's status under its row's lock, compiled once per worker thread (plumbing/prepared.py). Unordered:
# the model's ordering (by its cluster's name) would join the cluster's row and lock it too, and that row is the
# swarm's lock (services/allocations.py): every create's end would wait for the web's allocations, and they for it.
_status_locked = PreparedRows(
    lambda pk: Network.objects.filter(pk=pk).order_by().select_for_update().values("status"), "pk"
)


def network_activate(
    *, operation: Operation, network: Network, locked: Operation | None = None, writes: Writes | None = None
) -> None:
    """In the transaction that locked the network's row and read its status into `network`: the network
    active and its create succeeded. As it is now: staff may have given the create up meanwhile (then this
    refuses, and the clean-up of the failure removes what was made). A refusal ends that transaction (or
    the caller's savepoint in it), so the operation's end takes no savepoint of its own. `locked`: the
    operation's row as that transaction read it under its lock (operation_succeed's); `writes`: the writes
    among them, for the caller to send (operation_succeed's)."""
    set_status(network, Network.Status.ACTIVE, writes=writes)
    operation_succeed(
        operation=operation,
        message=_active_message(network),
        result={"id": network.docker_id},
        savepoint=False,
        locked=locked,
        writes=writes,
    )


def networks_activate(*, operations: list[Operation]) -> list[Operation]:
    """network_activate for several creates together, in the transaction that locked their networks' rows and
    read their statuses into them, each network one that may become active: the operations succeeded in a
    few statements for all (operations_succeed) and their networks made active in one UPDATE. Returns, left
    as they were, those whose operation was no longer running (network_activate refuses each alone)."""
    finished = []
    for operation in operations:
        network = operation.network_required()
        finished.append((operation, _active_message(network), {"id": network.docker_id}))
    succeeded, refused = operations_succeed(finished=finished)
    done = {operation.pk for operation in succeeded}
    networks = [operation.network_required() for operation in operations if operation.pk in done]
    now = timezone.now()
    for network in networks:
        network.status, network.updated = Network.Status.ACTIVE, now
    rows_update(networks, ["status", "docker_id", "updated"])
    return refused


def _active_message(network: Network) -> str:
    return f"Network {network.name} is active: {network.docker_id}"


def network_create_failed(*, operation: Operation) -> None:
    """A create that finally failed (or was given up) removes the Docker network it made, then gives its
    subnet back. When the cluster cannot be asked, the block stays held by the failed network until
    reconcile has seen the swarm without it (services/reconcile.py), so no one else is given a block the
    swarm may still hold."""
    network = operation.network
    if network is None or network.status not in (Network.Status.CREATING, Network.Status.FAILED):
        return
    try:
        network_unmake(network=network)
        unmade = True
    except EngineError as error:
        logger.warning("could not remove what the failed create of network %s made: %s", network.pk, error)
        unmade = False
    with transaction.atomic():
        network.status = Network.Status.FAILED
        network.save(update_fields=["status", "updated"])
        allocation = SubnetAllocation.objects.filter(network=network).first()
        if allocation is None or not unmade:
            return
        subnet_release(allocation=allocation)
    try:
        subnet_release_in_consul(cluster=network.cluster, cidr=network.subnet)
    except EngineError:
        pass  # reconcile removes a stale key later
