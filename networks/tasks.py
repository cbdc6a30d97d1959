"""Thin Celery tasks: operation ids in, services called.

`OperationTask` carries the operation state machine around every run: it starts the operation
(a stale or duplicate delivery does nothing), turns a transient cluster outage into "waiting for
the cluster" and a retry with backoff, and turns a final failure into the operation's error
sentence plus the service's clean-up (a failed create gives its subnet back).
"""

from __future__ import annotations

import json
import logging

from celery import Task, bootsteps, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from networks import ipam
from networks.engine import ClusterUnavailable, EngineError
from networks.models import Cluster, Operation
from networks.services import containers, events, networks, reconcile
from networks.services.clusters import cluster_refresh_health
from networks.services.errors import ServiceError
from networks.services.operations import (
    RECOVERY_GRACE_SECONDS,
    OperationNotStartable,
    operation_fail,
    operation_recover_orphans,
    operation_start,
    operation_wait,
    operations_send_unsent,
)
from portal.celery import app

logger = logging.getLogger(__name__)

RUNNERS = {
    Operation.Kind.NETWORK_CREATE: (networks.network_create_run, networks.network_create_failed),
    Operation.Kind.NETWORK_REMOVE: (networks.network_remove_run, networks.network_remove_failed),
    Operation.Kind.NETWORK_CONNECT: (networks.network_connect_run, networks.network_connect_failed),
    Operation.Kind.NETWORK_DISCONNECT: (networks.network_disconnect_run, None),
    Operation.Kind.CONTAINER_RUN: (containers.container_run_run, containers.container_run_failed),
    Operation.Kind.CONTAINER_STOP: (containers.container_action_run, containers.container_action_failed),
    Operation.Kind.CONTAINER_START: (containers.container_action_run, containers.container_action_failed),
    Operation.Kind.CONTAINER_RESTART: (containers.container_action_run, containers.container_action_failed),
    Operation.Kind.CONTAINER_REMOVE: (containers.container_action_run, containers.container_action_failed),
    Operation.Kind.CLUSTER_RECONCILE: (reconcile.cluster_reconcile_run, None),
}


def _sentence(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, (EngineError, ServiceError, ipam.IpamError)):
        return getattr(exc, "message", None) or str(exc), exc.code
    if isinstance(exc, SoftTimeLimitExceeded):
        return (
            "The cluster took too long to answer. Try again; if it keeps happening, check the cluster's nodes.",
            "timeout",
        )
    return "Something unexpected went wrong; an admin can find the details in the worker log.", "internal_error"


class OperationTask(Task):
    abstract = True
    acks_late = True
    ignore_result = True  # the operation's row is its result; nothing to wait for in the result store
    reject_on_worker_lost = True
    autoretry_for = (ClusterUnavailable,)
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 8
    soft_time_limit = 120
    time_limit = 150

    def run_operation(self, operation_id: int) -> str:
        try:
            operation = operation_start(operation_id=operation_id, task_id=self.request.id)
        except OperationNotStartable as exc:
            logger.info("skipping delivery: %s", exc)
            return "skipped"
        run, _ = RUNNERS[operation.kind]
        run(operation=operation)
        return "done"

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        operation_wait(operation_id=args[0], message=f"Waiting for the cluster: {_sentence(exc)[0]}")

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        message, code = _sentence(exc)
        if code == "internal_error":
            logger.error("operation %s failed unexpectedly", args[0], exc_info=(type(exc), exc, einfo.tb))
        operation = operation_fail(operation_id=args[0], error=message, code=code)
        if operation is None:
            return
        _, cleanup = RUNNERS[operation.kind]
        if cleanup is not None:
            try:
                cleanup(operation=operation)
            except Exception:  # clean-up is best effort; reconcile finishes it
                logger.exception("clean-up after operation %s failed", operation.pk)


@shared_task(bind=True, base=OperationTask, name="networks.network_create")
def network_create_task(self, operation_id: int) -> str:
    return self.run_operation(operation_id)


@shared_task(bind=True, base=OperationTask, name="networks.network_remove")
def network_remove_task(self, operation_id: int) -> str:
    return self.run_operation(operation_id)


@shared_task(bind=True, base=OperationTask, name="networks.network_connect")
def network_connect_task(self, operation_id: int) -> str:
    return self.run_operation(operation_id)


@shared_task(bind=True, base=OperationTask, name="networks.network_disconnect")
def network_disconnect_task(self, operation_id: int) -> str:
    return self.run_operation(operation_id)


@shared_task(bind=True, base=OperationTask, name="networks.container_run")
def container_run_task(self, operation_id: int) -> str:
    return self.run_operation(operation_id)


@shared_task(bind=True, base=OperationTask, name="networks.container_action")
def container_action_task(self, operation_id: int) -> str:
    return self.run_operation(operation_id)


@shared_task(bind=True, base=OperationTask, name="networks.cluster_reconcile")
def cluster_reconcile_task(self, operation_id: int) -> str:
    return self.run_operation(operation_id)


TASK_FOR_KIND = {
    Operation.Kind.NETWORK_CREATE: network_create_task,
    Operation.Kind.NETWORK_REMOVE: network_remove_task,
    Operation.Kind.NETWORK_CONNECT: network_connect_task,
    Operation.Kind.NETWORK_DISCONNECT: network_disconnect_task,
    Operation.Kind.CONTAINER_RUN: container_run_task,
    Operation.Kind.CONTAINER_STOP: container_action_task,
    Operation.Kind.CONTAINER_START: container_action_task,
    Operation.Kind.CONTAINER_RESTART: container_action_task,
    Operation.Kind.CONTAINER_REMOVE: container_action_task,
    Operation.Kind.CLUSTER_RECONCILE: cluster_reconcile_task,
}


@shared_task(name="networks.network_inspect", soft_time_limit=30, time_limit=40)
def network_inspect_task(network_id: int) -> dict:
    from networks.models import Network

    return networks.network_inspect_live(network=Network.objects.get(pk=network_id))


@shared_task(
    name="networks.cluster_refresh_health",
    acks_late=True,
    autoretry_for=(ClusterUnavailable,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def cluster_refresh_health_task(cluster_id: int) -> dict:
    return cluster_refresh_health(cluster=Cluster.objects.get(pk=cluster_id))


@shared_task(name="networks.refresh_health_all", soft_time_limit=50, time_limit=60)
def refresh_health_all_task() -> None:
    """Beat: keep every cluster's node and Consul health current for the dashboard."""
    for cluster_id in Cluster.objects.values_list("pk", flat=True):
        cluster_refresh_health_task.delay(cluster_id)


def _task_for(operation: Operation):
    return TASK_FOR_KIND[operation.kind]


def _waiting_task_ids() -> set[str] | None:
    """The task ids of the messages waiting in the task queue; None when the broker is not Redis.

    Kombu keeps a Redis queue as a list of JSON messages whose headers carry the task id.
    """
    ids: set[str] = set()
    with app.connection_for_read() as connection:
        if connection.transport.driver_type != "redis":
            return None
        client = connection.default_channel.client
        for queue in app.amqp.queues:
            for raw in client.lrange(queue, 0, -1):
                try:
                    ids.add(json.loads(raw)["headers"]["id"])
                except (ValueError, KeyError, TypeError):
                    continue
    return ids


def _live_task_ids() -> set[str]:
    """The task ids every live worker holds: running, prefetched, or waiting for a retry's countdown."""
    inspector = app.control.inspect(timeout=2.0)
    live: set[str] = set()
    for method in (inspector.active, inspector.reserved, inspector.scheduled):
        for tasks in (method() or {}).values():
            for task in tasks:
                live.add(task.get("id") or task.get("request", {}).get("id", ""))
    return live


@shared_task(name="networks.operations_send", ignore_result=True, soft_time_limit=60, time_limit=90)
def operations_send_task() -> list[int]:
    """Send the outbox: queued operations whose message never reached the task queue."""
    return operations_send_unsent(requeue=_task_for)


@shared_task(name="networks.operations_recover", ignore_result=True, soft_time_limit=60, time_limit=90)
def operations_recover_task() -> dict[str, list[int]]:
    """Send the outbox, and hand operations whose message was lost to a live worker (beat; each worker on connect)."""
    sent = operations_send_unsent(requeue=_task_for)
    # The queue is read before the workers are asked: a message moves from the queue to a worker,
    # so one that is in neither place when both were looked at is really lost.
    waiting = _waiting_task_ids()
    recovered = operation_recover_orphans(live_task_ids=_live_task_ids(), waiting_task_ids=waiting, requeue=_task_for)
    return {"sent": sent, "recovered": recovered}


@shared_task(name="networks.reconcile_all", soft_time_limit=240, time_limit=300)
def reconcile_all_task() -> list[int]:
    """Beat: reconcile every cluster through an operation, so the result is visible like any other."""
    return [reconcile.cluster_reconcile(cluster=cluster).pk for cluster in Cluster.objects.all()]


# Docker events heard by `manage.py follow_events`: refresh what changed outside the portal.
FOLLOW_OPTIONS = {
    "acks_late": True,
    "autoretry_for": (ClusterUnavailable,),
    "retry_backoff": True,
    "max_retries": 3,
    "soft_time_limit": 60,
    "time_limit": 90,
}


# While an operation is changing the object, look again this often, for up to a few minutes.
FOLLOW_LATER_SECONDS = 3
FOLLOW_LATER_TRIES = 100


def _follow(task, follow, cluster_id: int, **kwargs):
    """Run a follow-up on the cluster (gone: nothing to do); while an operation is busy, look later."""
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return None
    try:
        return follow(cluster=cluster, **kwargs)
    except events.FollowLater as later:
        raise task.retry(exc=later, countdown=FOLLOW_LATER_SECONDS, max_retries=FOLLOW_LATER_TRIES) from later


@shared_task(bind=True, name="networks.follow_container", **FOLLOW_OPTIONS)
def follow_container_task(self, cluster_id: int, docker_id: str, is_system: bool = False) -> list[str]:
    return _follow(self, events.container_follow, cluster_id, docker_id=docker_id, is_system=is_system) or []


@shared_task(bind=True, name="networks.follow_network", **FOLLOW_OPTIONS)
def follow_network_task(self, cluster_id: int, docker_id: str) -> int | None:
    operation = _follow(self, events.network_follow, cluster_id, docker_id=docker_id)
    return operation.pk if operation else None


class RecoverOnConnect(bootsteps.StartStopStep):
    """Each time a worker connects to the task queue (its start, and after the queue came back),
    send the outbox and look for lost operations, so nothing waits for beat's next round."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, parent):
        operations_send_task.delay()
        # After the grace period, so operations the dead worker touched last are old enough to be judged.
        operations_recover_task.apply_async(countdown=RECOVERY_GRACE_SECONDS + 1)


app.steps["consumer"].add(RecoverOnConnect)


@shared_task(name="networks.container_diagnose", soft_time_limit=20, time_limit=30)
def container_diagnose_task(container_id: int, target: str, port: int | None) -> dict:
    from networks.models import Container
    from networks.services.diagnostics import container_diagnose_run

    return container_diagnose_run(container=Container.objects.get(pk=container_id), target=target, port=port)


@shared_task(name="networks.cluster_images", soft_time_limit=20, time_limit=30)
def cluster_images_task(cluster_id: int) -> dict[str, list[str]]:
    from networks.services.containers import cluster_images_run

    return cluster_images_run(cluster=Cluster.objects.get(pk=cluster_id))
