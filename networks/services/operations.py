"""The operation state machine: queued -> running -> succeeded | failed, guarded here and nowhere else."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from networks.models import Cluster, Operation

from . import queue

logger = logging.getLogger(__name__)
RECOVERY_GRACE_SECONDS = 15


class OperationNotStartable(Exception):
    """The operation is finished, or running under another task: this delivery has nothing to do."""


def operation_create(
    *, tenant, cluster: Cluster, kind: str, target: str, user=None, network=None, container=None, params=None
) -> Operation:
    return Operation.objects.create(
        tenant=tenant,
        cluster=cluster,
        kind=kind,
        target=target,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        network=network,
        container=container,
        params=params or {},
        progress=[{"at": timezone.now().isoformat(), "message": "Queued: waiting for a worker."}],
    )


def operation_enqueue(*, operation: Operation) -> None:
    """Hand the operation to a worker once the surrounding transaction commits (the worker looks its
    kind up in `runners`); the task id it is sent under is the only one allowed to start it."""
    task_id = str(uuid.uuid4())
    Operation.objects.filter(pk=operation.pk).update(celery_task_id=task_id)
    operation.celery_task_id = task_id
    queue.send_on_commit(queue.RUN_OPERATION, operation.pk, task_id=task_id)


def _append(operation: Operation, message: str) -> list:
    return [*operation.progress, {"at": timezone.now().isoformat(), "message": message}]


@transaction.atomic
def operation_start(*, operation_id: int, task_id: str) -> Operation:
    """Move QUEUED -> RUNNING for the task that owns the operation; anything else is a stale delivery."""
    operation = Operation.objects.select_for_update().get(pk=operation_id)
    if operation.status != Operation.Status.QUEUED or (
        operation.celery_task_id and operation.celery_task_id != task_id
    ):
        raise OperationNotStartable(
            f"operation {operation_id} is {operation.status} under task {operation.celery_task_id}"
        )
    operation.status = Operation.Status.RUNNING
    operation.attempts += 1
    operation.started = operation.started or timezone.now()
    operation.progress = _append(operation, "Running.")
    operation.save(update_fields=["status", "attempts", "started", "progress", "updated"])
    return operation


def operation_progress(*, operation: Operation, message: str) -> None:
    operation.progress = _append(operation, message)
    Operation.objects.filter(pk=operation.pk).update(progress=operation.progress, updated=timezone.now())


@transaction.atomic
def operation_wait(*, operation_id: int, message: str) -> None:
    """RUNNING -> QUEUED while the task waits to retry (the cluster or Consul is unreachable)."""
    operation = Operation.objects.select_for_update().get(pk=operation_id)
    if operation.status != Operation.Status.RUNNING:
        return
    operation.status = Operation.Status.QUEUED
    operation.progress = _append(operation, message)
    operation.save(update_fields=["status", "progress", "updated"])


@transaction.atomic
def operation_succeed(*, operation: Operation, message: str, result: dict | None = None) -> Operation:
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if operation.status != Operation.Status.RUNNING:
        raise OperationNotStartable(f"cannot succeed operation {operation.pk} from {operation.status}")
    operation.status = Operation.Status.SUCCEEDED
    operation.finished = timezone.now()
    operation.result = result or {}
    operation.progress = _append(operation, message)
    operation.save(update_fields=["status", "finished", "result", "progress", "updated"])
    return operation


@transaction.atomic
def operation_fail(*, operation_id: int, error: str, code: str = "failed") -> Operation | None:
    operation = Operation.objects.select_for_update().get(pk=operation_id)
    if operation.is_finished:
        return None
    operation.status = Operation.Status.FAILED
    operation.finished = timezone.now()
    operation.error = error
    operation.error_code = code
    operation.progress = _append(operation, f"Failed: {error}")
    operation.save(update_fields=["status", "finished", "error", "error_code", "progress", "updated"])
    return operation


def operation_recover_orphans(*, live_task_ids: set[str]) -> list[int]:
    """Hand RUNNING operations whose task no worker holds any more (a worker died) to a new task.

    The runners are idempotent, so the new task picks up where the dead one stopped. Returns the
    ids of the operations handed over.
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=RECOVERY_GRACE_SECONDS)
    recovered = []
    for operation in Operation.objects.filter(status=Operation.Status.RUNNING, updated__lt=cutoff):
        if operation.celery_task_id in live_task_ids:
            continue
        with transaction.atomic():
            locked = Operation.objects.select_for_update().get(pk=operation.pk)
            if locked.status != Operation.Status.RUNNING:
                continue
            locked.status = Operation.Status.QUEUED
            locked.progress = _append(locked, "The worker running this stopped; another worker takes it over.")
            locked.save(update_fields=["status", "progress", "updated"])
            operation_enqueue(operation=locked)
        recovered.append(operation.pk)
        logger.warning("operation %s was orphaned by a dead worker; requeued", operation.pk)
    return recovered
