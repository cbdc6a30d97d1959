"""The operation state machine: queued -> running -> succeeded | failed, guarded here and nowhere else."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from networks.models import Cluster, Operation
from plumbing.bulk import rows_update
from plumbing.prepared import PreparedObjects, PreparedSave, Read
from plumbing.writes import Writes
from portal.actors import Actor
from portal.changes import change_new, change_record, changes_record

# The runners' progress notes come with the state machine (they are written in operation_notes.py).
from .operation_notes import (  # noqa: F401
    announce,
    appended,
    operation_progress,
    operation_transfer,
    operations_progress,
    progress_ending,
    without_flush,
)

# Sending to the task queue comes with it too (operations_send.py: the hand-over and the outbox).
from .operations_send import (  # noqa: F401
    QUEUE_BACK,
    WAITING_FOR_QUEUE,
    operation_send,
    operations_send,
    operations_send_on_commit,
    send_on_commit,
)

logger = logging.getLogger(__name__)
# A Docker call with no answer for this long makes a running operation say it waits for the cluster.
STALL_SECONDS = 5.0
WaitsOn = Operation.WaitsOn
# Waits a worker ends by taking the operation; the others outlast a retry until what they name answers.
ENDED_BY_A_WORKER = (WaitsOn.TASK_QUEUE, WaitsOn.WORKER, WaitsOn.DATABASE, WaitsOn.STATE_STORE)


class OperationNotStartable(Exception):
    """The operation is finished, or running under another task: this delivery has nothing to do."""


def operation_create(**fields) -> Operation:
    """Record the operation (`operation_new`'s fields) and hand it to a worker once the surrounding
    transaction commits."""
    operation = operation_new(**fields)
    operation.save(force_insert=True)
    send_on_commit(operation)
    return operation


def operation_new(
    *, tenant, cluster: Cluster, kind: str, target: str, user=None, network=None, container=None, params=None
) -> Operation:
    """An operation as `operation_create` records it, not saved yet: a batch records its own together
    (`operations_create`)."""
    return Operation(
        tenant=tenant,
        cluster=cluster,
        kind=kind,
        target=target,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        network=network,
        container=container,
        params=params or {},
        progress=[{"at": timezone.now().isoformat(), "message": "Queued: waiting for a worker."}],
        celery_task_id=str(uuid.uuid4()),
    )


def operations_create(
    operations: list[Operation], *, together: int = 1, writes: Writes | None = None
) -> list[Operation]:
    """Record a batch's operations (from `operation_new`) in one INSERT and send them together once the
    surrounding transaction commits. `together`: up to that many consecutive ones share a task id and
    one message (`networks.run_operations`), so that one worker runs them side by side. `writes`: the
    INSERT among them (plumbing/writes.py)."""
    for start in range(0, len(operations), together) if together > 1 else ():
        task_id = str(uuid.uuid4())
        for operation in operations[start : start + together]:
            operation.celery_task_id = task_id
    if writes is not None:
        writes.insert(operations)
    else:
        Operation.objects.bulk_create(operations)
    operations_send_on_commit(operations)
    return operations


def operation_enqueue(*, operation: Operation) -> None:
    """Hand a recorded operation to a worker again, under a new task id.

    A delivery of an earlier message for the operation is then stale and does nothing
    (operation_start), so sending again is always safe.
    """
    task_id = str(uuid.uuid4())
    Operation.objects.filter(pk=operation.pk).update(celery_task_id=task_id, sent=None)
    operation.celery_task_id = task_id
    operation.sent = None
    send_on_commit(operation)


@transaction.atomic
def operation_start(*, operation_id: int, task_id: str, taken: datetime | None = None) -> Operation:
    """Move QUEUED -> RUNNING for the task that owns the operation; anything else is a stale delivery.

    `taken`: when the worker's process began the task (by default now), its `started` on a first start: when
    a worker took the message, not when its lock on the row was granted (bench/e2e.py's "take" is measured
    to it). The operation comes with its cluster, team, network and container, read in the same query: every
    runner needs them. The network's cluster and team are the operation's when they are the same rows (not
    read twice: the cluster is the widest row, and its key is opened once per copy). That query is compiled
    once per worker process (`_start_read`): compiling its four joins cost more than running it."""
    found = _start_read(pk=operation_id)
    if not found:
        raise Operation.DoesNotExist(f"operation {operation_id} does not exist")
    operation = found[0]
    _start(operation, task_id=task_id, taken=taken)
    _start_save(operation)
    announce(operation)
    return operation


START_FIELDS = ["status", "attempts", "started", "progress", "waits_on", "waiting_since", "updated"]
_start_save = PreparedSave(Operation, START_FIELDS)  # its UPDATE written once (plumbing/prepared.py)


@transaction.atomic
def operations_start(*, operation_ids: list[int], task_id: str, taken: datetime | None = None) -> list[Operation]:
    """operation_start for the operations of one task (a batch's slice), in one read and one write: those
    this task may start, in the order of their ids; the others (finished, running, or handed to another
    task) are skipped as operation_start's stale deliveries are. Operations of one swarm and team share
    its rows; `taken` is operation_start's."""
    started: list[Operation] = []
    rows: dict[tuple[str, int | None], object] = {}
    for operation in _with_rows(Operation.objects.filter(pk__in=operation_ids).order_by("pk")):
        operation.cluster = rows.setdefault(("cluster", operation.cluster_id), operation.cluster)
        operation.tenant = rows.setdefault(("tenant", operation.tenant_id), operation.tenant)
        try:
            _start(operation, task_id=task_id, taken=taken)
        except OperationNotStartable as exc:
            logger.info("skipping delivery: %s", exc)
            continue
        started.append(operation)
    now = timezone.now()
    for operation in started:
        operation.updated = now
    rows_update(started, START_FIELDS)
    announce(*started)
    return started


def _with_rows(operations):
    """Operations locked, with their cluster, team, network and container read in the same query."""
    return operations.select_related("cluster", "tenant", "network", "container").select_for_update(of=("self",))


_start_read = PreparedObjects(lambda pk: _with_rows(Operation.objects.filter(pk=pk)), "pk")
# Every other locked read of one operation (its waits, its end), compiled once per thread as well.
_locked_read = PreparedObjects(lambda pk: Operation.objects.filter(pk=pk).select_for_update(), "pk")


def operation_locked_read(pk: int) -> Read:
    """`operation_locked`'s read, to send with others in one round trip (plumbing/prepared.py `reads_together`);
    its row, once sent, is what `operation_succeed(locked=...)` takes."""
    return Read(_locked_read, {"pk": pk})


def operation_locked(pk: int) -> Operation:
    """The operation, its row locked until the surrounding transaction ends (Operation.DoesNotExist if gone)."""
    found = _locked_read(pk=pk)
    if not found:
        raise Operation.DoesNotExist(f"operation {pk} does not exist")
    return found[0]


def _start(operation: Operation, *, task_id: str, taken: datetime | None) -> None:
    """QUEUED -> RUNNING in memory, for the task that owns it; OperationNotStartable otherwise."""
    network = operation.network
    if network is not None and network.cluster_id == operation.cluster_id:
        network.cluster = operation.cluster
    if network is not None and network.tenant_id == operation.tenant_id:
        network.tenant = operation.tenant
    if operation.status != Operation.Status.QUEUED or (
        operation.celery_task_id and operation.celery_task_id != task_id
    ):
        raise OperationNotStartable(
            f"operation {operation.pk} is {operation.status} under task {operation.celery_task_id}"
        )
    operation.status = Operation.Status.RUNNING
    operation.attempts += 1
    operation.started = operation.started or taken or timezone.now()
    operation.progress = appended(operation, "Running.")
    if operation.waits_on in ENDED_BY_A_WORKER:  # a worker took it, on a database that answers
        operation.waits_on, operation.waiting_since = WaitsOn.NOTHING, None


@transaction.atomic
def operation_wait(*, operation_id: int, message: str, waits_on: str = WaitsOn.CLUSTER) -> bool:
    """RUNNING -> QUEUED while the task waits to retry because `waits_on` (the cluster, its Consul, the
    portal's database) did not answer; since its first unanswered call when that wait was already noted.
    False when it was not running."""
    operation = operation_locked(operation_id)
    if operation.status != Operation.Status.RUNNING:
        return False
    operation.status = Operation.Status.QUEUED
    operation.progress = appended(operation, message)
    if operation.waits_on != waits_on:
        operation.waits_on, operation.waiting_since = waits_on, timezone.now()
    operation.save(update_fields=["status", "progress", "waits_on", "waiting_since", "updated"])
    announce(operation)
    return True


@transaction.atomic
def operation_waits_for_cluster(*, operation: Operation, since) -> bool:
    """A running operation's Docker call has had no answer since `since`: it says it waits for the cluster.
    Called beside the run (services/watch.py) while the run is stuck in that call, so the run's own copy
    of the progress is brought up to date too. False when it finished meanwhile or already says so."""
    locked = operation_locked(operation.pk)
    if locked.is_finished or locked.waits_on == Operation.WaitsOn.CLUSTER:
        return False
    locked.waits_on, locked.waiting_since = Operation.WaitsOn.CLUSTER, since
    stalled = f"The cluster has not answered for {STALL_SECONDS:g} s; waiting for it."
    locked.progress = progress_ending(operation, written=locked.progress, message=stalled)  # the run's copy too
    locked.save(update_fields=["waits_on", "waiting_since", "progress", "updated"])
    operation.waits_on, operation.waiting_since = locked.waits_on, since
    announce(locked)
    return True


def operation_cluster_answers(*, operation_id: int) -> bool:
    """The cluster answered the operation's call again: it no longer waits for it (the run's next step
    says where it is)."""
    cleared = Operation.objects.filter(pk=operation_id, waits_on=Operation.WaitsOn.CLUSTER).update(
        waits_on=Operation.WaitsOn.NOTHING, waiting_since=None, updated=timezone.now()
    )
    if cleared:
        announce(Operation.objects.get(pk=operation_id))
    return bool(cleared)


_succeed_save = PreparedSave(
    Operation, ["status", "finished", "result", "progress", "waits_on", "waiting_since", "updated"]
)


def operation_succeed(
    *,
    operation: Operation,
    message: str,
    result: dict | None = None,
    savepoint: bool = True,
    locked: Operation | None = None,
    writes: Writes | None = None,
) -> Operation:
    """RUNNING -> SUCCEEDED with `message` and `result`, and its change recorded; OperationNotStartable when it
    is no longer running. `savepoint=False` inside a transaction that any error of this ends (rolled back, or
    back to a savepoint of the caller's): none of its own, two round trips fewer (a create's end). `locked`:
    the operation's row as this transaction already read it under its lock (`operation_locked_read`, sent
    with the caller's own reads), not read again. `writes`: its UPDATE and its change's rows among them, for
    the caller to send with its own (plumbing/writes.py; the change's key reserved, and its outboxes' reads
    foreseen: `changes_foreseen`)."""
    with transaction.atomic(savepoint=savepoint):
        run = operation
        operation = locked if locked is not None else operation_locked(run.pk)
        if operation.status != Operation.Status.RUNNING:
            raise OperationNotStartable(f"cannot succeed operation {operation.pk} from {operation.status}")
        if Operation.tenant.is_cached(run) and run.tenant_id == operation.tenant_id:
            operation.tenant = run.tenant  # the run's, read when it started: the change record names it
        operation.status = Operation.Status.SUCCEEDED
        operation.finished = timezone.now()
        operation.result = result or {}
        operation.progress = progress_ending(run, written=operation.progress, message=message)
        operation.waits_on, operation.waiting_since = Operation.WaitsOn.NOTHING, None
        _succeed_save(operation, writes=writes)
        _record_finish(operation, "operation.succeeded", writes=writes)
        announce(operation)
        return operation


def _record_finish(operation: Operation, action: str, *, writes: Writes | None = None) -> None:
    """The end of an operation is a change of its own (webhooks hear of it as operation.succeeded/failed)."""
    details = {"kind": operation.kind, "target": operation.target}
    if operation.error_code and action == "operation.failed":
        details["error_code"] = operation.error_code
    worker = Actor.system("worker")
    if writes is None:
        change_record(actor=worker, action=action, tenant=operation.tenant, obj=operation, details=details)
        return
    change = change_new(actor=worker, action=action, tenant=operation.tenant, obj=operation, details=details)
    changes_record([change], writes=writes)


@transaction.atomic
def operation_fail(*, operation_id: int, error: str, code: str = "failed") -> Operation | None:
    operation = operation_locked(operation_id)
    if operation.is_finished:
        return None
    operation.status = Operation.Status.FAILED
    operation.finished = timezone.now()
    operation.error = error
    operation.error_code = code
    operation.progress = appended(operation, f"Failed: {error}")
    operation.waits_on, operation.waiting_since = Operation.WaitsOn.NOTHING, None
    operation.save(
        update_fields=["status", "finished", "error", "error_code", "progress", "waits_on", "waiting_since", "updated"]
    )
    _record_finish(operation, "operation.failed")
    announce(operation)
    return operation
