"""Operations whose message went missing, sent again: the outbox (queued operations whose message never
reached the task queue) and the recovery of what a dead worker held or a restarted task queue lost. Each
is sent under a new task id, so a late delivery of the old message is a stale one (operation_start)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from networks.models import Operation

from .operation_notes import announce, appended
from .operations import QUEUE_BACK, WaitsOn, operation_enqueue

logger = logging.getLogger(__name__)
RECOVERY_GRACE_SECONDS = 15
# A message the web is sending right now is not the outbox's to send: leave it this long.
OUTBOX_GRACE_SECONDS = 5


def _resend(operation: Operation, *, status: str, message: str | None) -> bool:
    """Send the operation again under a new task id, if it is still as it was read (status and task)."""
    with transaction.atomic():
        locked = Operation.objects.select_for_update().get(pk=operation.pk)
        if locked.status != status or locked.celery_task_id != operation.celery_task_id:
            return False
        locked.status = Operation.Status.QUEUED
        if message:
            locked.progress = appended(locked, message)
        locked.save(update_fields=["status", "progress", "updated"])
        announce(locked)
        operation_enqueue(operation=locked)
    return True


def operation_hand_over(*, operation: Operation) -> bool:
    """A running operation a task of several started but does not run: to a run of its own."""
    return _resend(operation, status=Operation.Status.RUNNING, message="Handed to a run of its own.")


def operations_send_unsent() -> list[int]:
    """The outbox: send every queued operation whose message never reached the task queue."""
    cutoff = timezone.now() - timedelta(seconds=OUTBOX_GRACE_SECONDS)
    sent = []
    for operation in Operation.objects.filter(status=Operation.Status.QUEUED, sent__isnull=True):
        refused = operation.waits_on == WaitsOn.TASK_QUEUE  # nobody is sending it now: no need to wait
        if not refused and operation.updated >= cutoff:
            continue
        message = QUEUE_BACK if refused else None
        if _resend(operation, status=Operation.Status.QUEUED, message=message):
            sent.append(operation.pk)
            logger.info("operation %s sent from the outbox", operation.pk)
    return sent


def operation_recover_orphans(*, live_task_ids: set[str], waiting_task_ids: set[str] | None) -> list[int]:
    """Hand operations whose message no worker holds any more to a new task.

    RUNNING ones whose task no live worker holds (a worker died mid-run), and QUEUED ones that were
    sent but whose message is neither waiting in the task queue nor held by a live worker (it was
    delivered to a worker that died, where it would sit unacknowledged until the visibility timeout,
    or the task queue lost it in a restart). `waiting_task_ids` is None when the queue cannot be
    read: queued operations are then left alone. Both only after a grace period, so a message in
    flight is not taken for a lost one. The runners are idempotent, so the new task picks up where
    the dead one stopped. Returns the ids handed over.
    """
    cutoff = timezone.now() - timedelta(seconds=RECOVERY_GRACE_SECONDS)
    recovered = []
    for operation in Operation.objects.filter(status=Operation.Status.RUNNING, updated__lt=cutoff):
        if operation.celery_task_id in live_task_ids:
            continue
        message = "The worker running this stopped; another worker takes it over."
        if _resend(operation, status=Operation.Status.RUNNING, message=message):
            recovered.append(operation.pk)
            logger.warning("operation %s was orphaned by a dead worker; requeued", operation.pk)
    if waiting_task_ids is None:
        return recovered
    held = live_task_ids | waiting_task_ids
    queued = Operation.objects.filter(status=Operation.Status.QUEUED, sent__lt=cutoff, updated__lt=cutoff)
    for operation in [op for op in queued if op.celery_task_id not in held]:
        message = "Its message was lost (its worker stopped, or the task queue restarted); sent again."
        if _resend(operation, status=Operation.Status.QUEUED, message=message):
            recovered.append(operation.pk)
            logger.warning("queued operation %s had no live message; sent again", operation.pk)
    return recovered
