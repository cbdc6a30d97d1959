"""Thin Celery tasks: operation ids in, services called.

`OperationTask` carries the operation state machine around every run: it starts the operation
(a stale or duplicate delivery does nothing), turns a transient cluster outage or a lost database
connection into "waiting for the cluster" (or the database) and a retry with backoff, and turns a
final failure into the operation's error sentence plus the service's clean-up (a failed create
gives its subnet back).
"""

from __future__ import annotations

import logging

from celery import Task, bootsteps, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from networks.engine import ClusterUnavailable, EngineError, StateStoreUnavailable
from networks.models import Cluster, Operation
from networks.services import events, queue, reconcile
from networks.services.clusters.health import cluster_refresh_health
from networks.services.clusters.state_store import state_store_outage
from networks.services.networks.run_together import networks_create_run_together
from networks.services.operation_recovery import (
    RECOVERY_GRACE_SECONDS,
    operation_hand_over,
    operation_recover_orphans,
    operations_send_unsent,
)
from networks.services.operations import (
    OperationNotStartable,
    operation_enqueue,
    operation_fail,
    operation_start,
    operation_wait,
    operations_start,
)
from networks.services.runners import operation_give_up, runner_for
from networks.services.watch import operation_watched
from plumbing.database_faults import DATABASE_FAULTS, is_database_fault, reconnect
from plumbing.errors import ServiceError
from portal.celery import app

from . import question_tasks  # noqa: F401  (the answers to questions: registered with every worker)
from .held_tasks import HeldTaskIds

logger = logging.getLogger(__name__)


def _sentence(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, (EngineError, ServiceError)):
        return getattr(exc, "message", None) or str(exc), exc.code
    if isinstance(exc, SoftTimeLimitExceeded):
        return (
            "The cluster took too long to answer. Try again; if it keeps happening, check the cluster's nodes.",
            "timeout",
        )
    if is_database_fault(exc):
        return (
            "The portal's database did not answer through every retry. Try again; if it keeps happening, "
            "an admin should check PostgreSQL.",
            "database_unavailable",
        )
    return "Something unexpected went wrong; an admin can find the details in the worker log.", "internal_error"


WAITING_FOR_DATABASE = "Waiting for the portal's database: its connection was lost. The worker tries again shortly."


class OperationTask(Task):
    abstract = True
    acks_late = True
    ignore_result = True  # the operation's row is its result; nothing to wait for in the result store
    reject_on_worker_lost = True
    # A lost database connection is a wait too (a restart, a failover): the next attempt opens a fresh one.
    autoretry_for = (ClusterUnavailable, *DATABASE_FAULTS)
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 8
    soft_time_limit = 120
    time_limit = 150

    def run_operation(self, operation_id: int) -> str:
        taken = timezone.now()  # the task begun in this process: the operation's `started`, before its lock
        try:
            operation = operation_start(operation_id=operation_id, task_id=self.request.id, taken=taken)
        except OperationNotStartable as exc:
            logger.info("skipping delivery: %s", exc)
            return "skipped"
        try:
            try:
                with operation_watched(operation=operation):  # says when the cluster does not answer
                    runner_for(operation).run(operation=operation)
            except StateStoreUnavailable as outage:
                raise state_store_outage(operation=operation, outage=outage) from outage
        except self.autoretry_for as wait:
            self.note_wait(operation_id, wait)
            raise
        return "done"

    def note_wait(self, operation_id: int, exc: Exception) -> None:
        """RUNNING -> QUEUED with what it waits for, before the retry's message exists: a retry delivered
        at once (the jitter may make its countdown 0) then finds the operation queued, and nothing sets it
        back to queued under it (Celery's on_retry runs after the message is sent). Not on the last try."""
        if self.request.retries >= self.max_retries:
            return
        _note_wait(operation_id, exc)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        _operation_failed(args[0], exc, einfo.tb)


def _note_wait(operation_id: int, exc: Exception) -> bool:
    """RUNNING -> QUEUED, saying what the operation waits for; False when it could not be noted."""
    if is_database_fault(exc):
        reconnect()
        message, waits_on = WAITING_FOR_DATABASE, Operation.WaitsOn.DATABASE
    elif isinstance(exc, StateStoreUnavailable):
        message, waits_on = f"Waiting for the cluster: {_sentence(exc)[0]}", Operation.WaitsOn.STATE_STORE
    else:
        message, waits_on = f"Waiting for the cluster: {_sentence(exc)[0]}", Operation.WaitsOn.CLUSTER
    try:
        return operation_wait(operation_id=operation_id, message=message, waits_on=waits_on)
    except DATABASE_FAULTS:  # still down: the operation stays running, and recovery hands it over
        reconnect()
        logger.warning("operation %s: could not record its wait, the database does not answer", operation_id)
        return False


def _operation_failed(operation_id: int, exc: BaseException, tb=None) -> None:
    """An operation's run failed for good: its error sentence, after its runner's clean-up."""
    if is_database_fault(exc):
        reconnect()
    message, code = _sentence(exc)
    if code == "internal_error":
        logger.error("operation %s failed unexpectedly", operation_id, exc_info=(type(exc), exc, tb))
    operation = Operation.objects.filter(pk=operation_id).first()
    # A failed one was given up while this run went on: what the run made since is cleaned up too.
    if operation is None or operation.status == Operation.Status.SUCCEEDED:
        return
    # Clean up first, so that whoever sees the operation failed also sees what it left tidied up.
    cleanup = runner_for(operation).failed
    if cleanup is not None:
        try:
            cleanup(operation=operation)
        except Exception:  # clean-up is best effort; reconcile finishes it
            logger.exception("clean-up after operation %s failed", operation.pk)
    operation_fail(operation_id=operation_id, error=message, code=code)


@shared_task(name=queue.GIVE_UP_OPERATION, acks_late=True, soft_time_limit=120, time_limit=150)
def give_up_operation_task(operation_id: int) -> bool:
    """Staff gave up on a stuck operation: clean up what it started and mark it failed."""
    operation = Operation.objects.filter(pk=operation_id).first()
    return operation is not None and operation_give_up(operation=operation)


@shared_task(bind=True, base=OperationTask, name=queue.RUN_OPERATION)
def run_operation_task(self, operation_id: int) -> str:
    """Every kind of operation: the runner comes from the operation's kind (services/runners.py)."""
    return self.run_operation(operation_id)


@shared_task(
    bind=True,
    name=queue.RUN_OPERATIONS,
    acks_late=True,
    ignore_result=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    time_limit=270,
)
def run_operations_task(self, operation_ids: list[int]) -> str:
    """A batch's slice of network creates, run together (services/networks/run_together.py). One that
    fails is handled alone, as its own run would handle it; one this task cannot start is skipped. A
    worker lost mid-way leaves its operations running under this task's id: recovery hands each to a run
    of its own."""
    operations = operations_start(operation_ids=operation_ids, task_id=self.request.id, taken=timezone.now())
    together = [operation for operation in operations if operation.kind == Operation.Kind.NETWORK_CREATE]
    for operation in operations:
        if operation.kind != Operation.Kind.NETWORK_CREATE:  # never sent together: its own run does it
            operation_hand_over(operation=operation)
    networks_create_run_together(operations=together, failed=_failed_alone)
    return "done"


def _failed_alone(operation: Operation, exc: BaseException) -> None:
    """One operation of a run of several failed: what its own run would do. A wait (the cluster, its
    Consul, the database) goes on in a run of its own (`networks.run_operation`, retried with backoff);
    anything else fails it with its sentence and its clean-up."""
    if isinstance(exc, StateStoreUnavailable):
        exc = state_store_outage(operation=operation, outage=exc)
    if isinstance(exc, OperationTask.autoretry_for):
        if _note_wait(operation.pk, exc):
            operation_enqueue(operation=operation)
        return
    _operation_failed(operation.pk, exc, exc.__traceback__)


@shared_task(
    name=queue.CLUSTER_REFRESH_HEALTH,
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


@shared_task(name="networks.operations_send", ignore_result=True, soft_time_limit=60, time_limit=90)
def operations_send_task() -> list[int]:
    """Send the outbox: queued operations whose message never reached the task queue."""
    return operations_send_unsent()


@shared_task(name="networks.operations_recover", ignore_result=True, soft_time_limit=60, time_limit=90)
def operations_recover_task() -> dict[str, list[int]]:
    """Send the outbox, and hand operations whose message was lost to a live worker (beat; each worker on connect)."""
    sent = operations_send_unsent()
    # The queue is read before the workers are asked: a message moves from the queue to a worker,
    # so one that is in neither place when both were looked at is really lost.
    waiting = queue.waiting_task_ids()
    held = queue.held_task_ids()
    if held is None:  # a broker that is not Redis: who holds what cannot be told
        return {"sent": sent, "recovered": []}
    recovered = operation_recover_orphans(live_task_ids=held, waiting_task_ids=waiting)
    return {"sent": sent, "recovered": recovered}


@shared_task(name="networks.reconcile_all", soft_time_limit=240, time_limit=300)
def reconcile_all_task() -> list[int]:
    """Beat: reconcile every cluster through an operation, so the result is visible like any other."""
    return [reconcile.cluster_reconcile_request(cluster=cluster).pk for cluster in Cluster.objects.all()]


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


@shared_task(bind=True, name=queue.FOLLOW_CONTAINER, **FOLLOW_OPTIONS)
def follow_container_task(self, cluster_id: int, docker_id: str, is_system: bool = False) -> list[str]:
    return _follow(self, events.container_follow, cluster_id, docker_id=docker_id, is_system=is_system) or []


@shared_task(bind=True, name=queue.FOLLOW_NETWORK, **FOLLOW_OPTIONS)
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


app.steps["consumer"].add(HeldTaskIds)
