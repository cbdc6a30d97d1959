"""The outbox's `sent` stamp, written once an operation's message is handed to the task queue
(operations.py `operations_send`): when the hand-over began, and that the operation now waits for a worker."""

from __future__ import annotations

import functools
import operator

from django.db.models import Case, F, Q, Value, When

from networks.models import Operation
from plumbing.prepared import PreparedUpdate

from .operation_notes import without_flush

WaitsOn = Operation.WaitsOn


def operations_stamp_sent(sent: list[tuple[Operation, str]], now) -> None:
    """Stamp the operations sent (each with the task id it was sent under) `sent` at `now`.

    Without waiting for the disk: the worker that took the message waits for this row's lock meanwhile.
    Lost in a crash, `sent` is only empty again: the outbox sends the operation once more, and the
    message sent first is then a stale delivery (operation_start), or the operation has already started."""
    with without_flush():
        if len(sent) == 1:  # every single create, removal, run...: compiled once
            _stamp_one(pk=sent[0][0].pk, task_id=sent[0][1], now=now)
        else:
            operations, values = _stamp(_still_theirs(sent), now)
            operations.update(**values)


def _still_theirs(sent: list[tuple[Operation, str]]) -> Q:
    """The operations sent, each still under the task id it was sent with."""
    return functools.reduce(operator.or_, (Q(pk=op.pk, celery_task_id=task_id) for op, task_id in sent))


def _stamp(still_theirs: Q, now) -> tuple:
    """The UPDATE's rows and values: now each waits for a worker, unless it waits on something a retry
    outlasts (the cluster), or a worker has taken it already (this stamp can come after its start)."""
    handed = Case(
        When(
            status=Operation.Status.QUEUED,
            waits_on__in=[WaitsOn.NOTHING, WaitsOn.TASK_QUEUE],
            then=Value(WaitsOn.WORKER),
        ),
        default=F("waits_on"),
    )
    return Operation.objects.filter(still_theirs), {"sent": now, "waits_on": handed}


_stamp_one = PreparedUpdate(
    lambda pk, task_id, now: _stamp(Q(pk=pk, celery_task_id=task_id), now),
    "pk",
    text=("task_id",),
    moments=("now",),
)
