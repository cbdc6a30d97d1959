"""A worker's run of a batch's creates together (`networks.run_operations`: a slice of a batch, batch.py).

The single run's steps (create.py, builds.py), each made for all the slice's networks at once: their
blocks reserved in the cluster's Consul in one transaction, the Docker creates made side by side by a
small pool of threads (Docker calls only: every database write stays in the run's own thread), what the
swarm built read for all of them by one list call a look (the single run inspects its one), their documents
written to Consul in one transaction, then active and succeeded in one database transaction, each with its
own message and change record. The notes along the way are written together too.

A network whose step fails (a refusal, a block the swarm holds, a timeout) is handed to `failed` alone
and the others go on: the task does for it what its single run would (services never know the tasks).
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable

from django.db import transaction

from networks.engine import docker as docker_engine
from networks.models import Network, Operation, SubnetAllocation

from ..allocations import subnets_reserve_in_consul
from ..builds import creating_note, network_build, network_create_sent, network_reserve
from ..operations import operations_progress
from ..state import state_networks_write
from ..watch import operation_watched
from .create_run import WRITING_STATE, network_activate, networks_activate

logger = logging.getLogger(__name__)

# Docker creates made at once by one worker process (the swarm's manager serialises part of each anyway).
THREADS = 4
_pool: concurrent.futures.ThreadPoolExecutor | None = None

Failed = Callable[[Operation, BaseException], None]


def networks_create_run_together(*, operations: list[Operation], failed: Failed) -> None:
    """Run the creates of `operations` (started, of one swarm or several) together; each network that
    fails goes to `failed(operation, error)` and leaves the rest."""
    by_cluster: dict[int, list[Operation]] = {}
    for operation in operations:
        by_cluster.setdefault(operation.cluster_id, []).append(operation)
    for group in by_cluster.values():
        _run(group, failed)


def _run(operations: list[Operation], failed: Failed) -> None:
    cluster = operations[0].cluster
    going = _reserved(operations, failed)
    operations_progress([(operation, creating_note(operation.network_required())) for operation in going])
    made = []
    for operation, created in _created(going, failed):
        try:
            attrs = network_build(operation=operation, network=operation.network_required(), created=created)
        except Exception as error:
            failed(operation, error)
            continue
        operation.network_required().docker_id = attrs["Id"]
        made.append(operation)
    if not made:
        return
    operations_progress([(operation, WRITING_STATE) for operation in made])
    try:
        state_networks_write(cluster=cluster, networks=[operation.network_required() for operation in made])
    except Exception as error:
        for operation in made:
            failed(operation, error)
        return
    networks_activate_together(operations=made, failed=failed)


def _reserved(operations: list[Operation], failed: Failed) -> list[Operation]:
    """network_reserve for each, made as one Consul transaction; each alone when one block is found taken
    (ours from an earlier try, or another writer's), as the single run would."""
    operations_progress(
        [
            (operation, f"Reserving {operation.network_required().subnet} in the cluster's state store.")
            for operation in operations
        ]
    )
    allocations = {allocation.network_id: allocation for allocation in SubnetAllocation.objects.filter(
        network__in=[operation.network_required() for operation in operations])}  # fmt: skip
    for operation in operations:
        if (allocation := allocations.get(operation.network_required().pk)) is not None:
            allocation.network, allocation.cluster = operation.network, operation.cluster
    try:  # a network without its block's row is left to network_reserve, which says so as the single run does
        if len(allocations) == len(operations) and subnets_reserve_in_consul(
            cluster=operations[0].cluster, allocations=list(allocations.values())
        ):
            return operations
    except Exception as error:
        for operation in operations:
            failed(operation, error)
        return []
    going = []
    for operation in operations:
        try:
            network_reserve(operation=operation, network=operation.network_required())
        except Exception as error:
            failed(operation, error)
            continue
        going.append(operation)
    return going


def _created(operations: list[Operation], failed: Failed) -> list[tuple[Operation, dict | None]]:
    """network_create_call for each: the create calls side by side in the pool's threads, then what the swarm
    built read for all of them at once (`networks_allocated`: one list call a look instead of an inspect each).
    Each as (operation, its network's attributes, or None when Docker refused its subnet as overlapping)."""
    sent: list[tuple[Operation, str | None]] = []
    for operation, future in [(operation, _threads().submit(_sent, operation)) for operation in operations]:
        try:
            sent.append((operation, future.result()))
        except Exception as error:
            failed(operation, error)
    if not sent:
        return []
    endpoint = operations[0].cluster.docker
    try:
        built = docker_engine.networks_allocated(endpoint, [created for _, created in sent if created is not None])
    except Exception as error:
        for operation, _ in sent:
            failed(operation, error)
        return []
    answers: list[tuple[Operation, dict | None]] = []
    for operation, created in sent:
        try:  # one the list did not hold is inspected alone, which says what became of it
            attrs = (
                None if created is None else built.get(created) or docker_engine.network_allocated(endpoint, created)
            )
        except Exception as error:
            failed(operation, error)
            continue
        answers.append((operation, attrs))
    return answers


def _sent(operation: Operation) -> str | None:
    """In a pool's thread: the Docker create call (network_create_sent), watched as a single run is."""
    with operation_watched(operation=operation):
        return network_create_sent(operation.network_required())


def networks_activate_together(*, operations: list[Operation], failed: Failed) -> None:
    """create.py's last step for each, in one transaction: the networks' rows locked and read in one query,
    then those that may become active made active and succeeded together (a few statements for all). A
    network that may not (given up by staff meanwhile, or its operation no longer running) takes the single
    step alone, which refuses it with its reason, and goes to `failed`."""
    refused = []
    with transaction.atomic():
        statuses = dict(  # by id, not by cluster's name: that would lock the cluster's row (create_run.py)
            Network.objects.select_for_update()
            .filter(pk__in=[operation.network_required().pk for operation in operations])
            .order_by("pk")
            .values_list("pk", "status")
        )
        ready: list[Operation] = []
        alone: list[Operation] = []
        for operation in operations:
            network = operation.network_required()
            network.status = statuses[network.pk]
            may = network.status == Network.Status.ACTIVE or network.can_transition(Network.Status.ACTIVE)
            (ready if may else alone).append(operation)
        if ready:
            alone.extend(networks_activate(operations=ready))
        for operation in alone:
            try:
                with transaction.atomic():
                    network_activate(operation=operation, network=operation.network_required())
            except Exception as refusal:
                refused.append((operation, refusal))
    for operation, error in refused:
        failed(operation, error)


def _threads() -> concurrent.futures.ThreadPoolExecutor:
    """The process's pool, made on first use (after the worker's fork)."""
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(THREADS, thread_name_prefix="network-create")
    return _pool
