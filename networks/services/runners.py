"""What a worker runs for each kind of operation, and what cleans up after it when it finally fails.

One registry for every kind: `networks.tasks` looks the operation's kind up here; the services that
record operations hand them to a worker by kind (`operation_create`) and never import the tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from networks.models import Operation
from portal.actors import Actor
from portal.changes import change_record

from . import queue, reconcile
from .containers.lifecycle import container_action_failed, container_action_run
from .containers.run import container_launch_failed, container_launch_run
from .networks.attach import network_connect_failed, network_connect_run, network_disconnect_run
from .networks.create_run import network_create_failed, network_create_run
from .networks.remove import network_remove_failed, network_remove_run
from .operations import operation_fail


@dataclass(frozen=True)
class Runner:
    run: Callable[..., None]
    failed: Callable[..., None] | None = None


RUNNERS: dict[str, Runner] = {
    Operation.Kind.NETWORK_CREATE: Runner(network_create_run, network_create_failed),
    Operation.Kind.NETWORK_REMOVE: Runner(network_remove_run, network_remove_failed),
    Operation.Kind.NETWORK_CONNECT: Runner(network_connect_run, network_connect_failed),
    Operation.Kind.NETWORK_DISCONNECT: Runner(network_disconnect_run),
    Operation.Kind.CONTAINER_RUN: Runner(container_launch_run, container_launch_failed),
    Operation.Kind.CONTAINER_STOP: Runner(container_action_run, container_action_failed),
    Operation.Kind.CONTAINER_START: Runner(container_action_run, container_action_failed),
    Operation.Kind.CONTAINER_RESTART: Runner(container_action_run, container_action_failed),
    Operation.Kind.CONTAINER_REMOVE: Runner(container_action_run, container_action_failed),
    Operation.Kind.CLUSTER_RECONCILE: Runner(reconcile.cluster_reconcile_run),
}


def runner_for(operation: Operation) -> Runner:
    return RUNNERS[operation.kind]


GIVEN_UP = (
    "An admin stopped waiting for this operation; what it had started was cleaned up. "
    "Try again, or remove what it was for."
)


def operation_give_up_request(*, actor: Actor, operation: Operation) -> None:
    """Ask a worker to give up on a stuck operation (its clean-up talks to the cluster; pages never do)."""
    change_record(actor=actor, action="operation.give_up", tenant=operation.tenant, obj=operation)
    queue.send_on_commit(queue.GIVE_UP_OPERATION, operation.pk)


def operation_give_up(*, operation: Operation) -> bool:
    """Staff's way out of an operation stuck for good: its clean-up runs (a create gives its subnet
    back, a run its container and addresses) and it fails with a sentence. A late delivery of its
    message then finds it finished and does nothing. Returns False when it had already finished."""
    operation.refresh_from_db()
    if operation.is_finished:
        return False
    failed = runner_for(operation).failed
    if failed is not None:
        failed(operation=operation)
    return operation_fail(operation_id=operation.pk, error=GIVEN_UP, code="given_up") is not None
