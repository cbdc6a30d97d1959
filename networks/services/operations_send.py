"""Handing operations to the task queue: after the commit that recorded them, each operation's message
published and its `sent` stamped; when the queue does not answer, the operation waits in the outbox (the
operations table: `sent` empty) and says so (networks/services/operations.py owns the state machine)."""

from __future__ import annotations

import functools
import itertools
import logging
import operator

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from kombu.exceptions import OperationalError

from networks.models import Operation
from plumbing.prepared import PreparedUpdate

from . import queue
from .operation_notes import announce, appended, one_without_flush, without_flush

logger = logging.getLogger(__name__)
WAITING_FOR_QUEUE = (
    "Waiting for the task queue: it does not answer. The operation is sent to a worker as soon as it does; "
    "nothing to do meanwhile."
)
QUEUE_BACK = "The task queue answers again; the operation is sent to a worker."
WaitsOn = Operation.WaitsOn


def send_on_commit(operation: Operation) -> None:
    """Send once the surrounding transaction commits (the worker looks its kind up in `runners`), so the
    worker finds the rows it needs."""
    task_id = operation.celery_task_id
    transaction.on_commit(lambda: operation_send(operation=operation, task_id=task_id))


def operations_send_on_commit(operations: list[Operation]) -> None:
    """Send a batch's operations once the surrounding transaction commits: one producer for all the
    messages, and one UPDATE that marks them sent."""
    sending = [(operation, operation.celery_task_id) for operation in operations]
    if sending:
        transaction.on_commit(lambda: operations_send(sending))


def operation_send(*, operation: Operation, task_id: str) -> bool:
    """Hand the operation's message to the task queue, or leave it in the outbox when the queue is down."""
    return operations_send([(operation, task_id)]) == 1


def operations_send(sending: list[tuple[Operation, str]]) -> int:
    """Hand each operation's message (under its task id) to the task queue, in order; how many were sent.

    When the queue does not answer, the rest stay in the outbox: the change is recorded either way, and an
    operation without `sent` is sent again by operations_send_unsent (beat, and each worker when it connects)
    once the queue answers. `sent` is when the hand-over began (right after the commit, in its on_commit
    hook): what a worker's `started` is measured from (bench/e2e.py).
    """
    now = timezone.now()
    sent: list[tuple[Operation, str]] = []
    try:
        with queue.producer() as producer:
            for task_id, grouped in itertools.groupby(sending, key=operator.itemgetter(1)):
                group = list(grouped)
                if len(group) == 1:
                    queue.send(queue.RUN_OPERATION, group[0][0].pk, task_id=task_id, producer=producer)
                else:  # operations that share a task id (operations_create's `together`) share its message
                    queue.send(queue.RUN_OPERATIONS, [op.pk for op, _ in group], task_id=task_id, producer=producer)
                sent.extend(group)
    except OperationalError as error:
        for operation, _ in sending[len(sent) :]:
            wait_for_queue(operation, error)
    if not sent:
        return 0
    operations_stamp_sent(sent, now)
    for operation, _ in sent:
        operation.sent = now
    return len(sent)


def wait_for_queue(operation: Operation, error: Exception) -> None:
    logger.warning("operation %s waits for the task queue: %s", operation.pk, error)
    if operation.waits_on != WaitsOn.TASK_QUEUE:
        operation.waits_on, operation.waiting_since = WaitsOn.TASK_QUEUE, timezone.now()
        operation.progress = appended(operation, WAITING_FOR_QUEUE)
        Operation.objects.filter(pk=operation.pk).update(
            progress=operation.progress,
            waits_on=operation.waits_on,
            waiting_since=operation.waiting_since,
            updated=timezone.now(),
        )
        announce(operation)


def operations_stamp_sent(sent: list[tuple[Operation, str]], now) -> None:
    """Stamp the operations sent (each with the task id it was sent under) `sent` at `now`.

    Without waiting for the disk: the worker that took the message waits for this row's lock meanwhile.
    Lost in a crash, `sent` is only empty again: the outbox sends the operation once more, and the
    message sent first is then a stale delivery (operation_start), or the operation has already started."""
    if len(sent) == 1:  # every single create, removal, run...: compiled once, and one round trip after a commit
        one_without_flush(*_stamp_one.statement(pk=sent[0][0].pk, task_id=sent[0][1], now=now))
        return
    with without_flush():
        operations, values = _stamp(_still_theirs(sent), now)
        # Their rows locked in the order of their ids, as every statement that locks several operations does
        # (plumbing/bulk.py, operations_start): a worker already running a slice of them holds some, and rows
        # taken in the scan's order (the table's) made a cycle with it that PostgreSQL broke by failing the run.
        locked = operations.order_by("pk").select_for_update(no_key=True)  # the UPDATE's own lock, taken in order
        Operation.objects.filter(pk__in=locked.values("pk")).update(**values)


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
