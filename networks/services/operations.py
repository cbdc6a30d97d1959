"""The operation state machine: queued -> running -> succeeded | failed, guarded here and nowhere else."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from networks.models import Cluster, Operation
from plumbing.prepared import PreparedObjects, Read
from plumbing.saves import PreparedSave
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

# Its first move comes with it (operations_start.py: one operation's start, or a batch's slice's).
from .operations_start import (  # noqa: F401
    ENDED_BY_A_WORKER,
    OperationNotStartable,
    operation_start,
    operations_start,
)

# A Docker call with no answer for this long makes a running operation say it waits for the cluster.
STALL_SECONDS = 5.0
WaitsOn = Operation.WaitsOn


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


# Every locked read of one operation but its start's (its waits, its end), compiled once per thread; one row by its
# key, unordered (the model's ordering is only a sort for PostgreSQL to plan).
_locked_read = PreparedObjects(lambda pk: Operation.objects.filter(pk=pk).order_by().select_for_update(), "pk")


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
