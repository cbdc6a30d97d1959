"""The operation state machine's first move, QUEUED -> RUNNING, for the task that owns the operation: one
operation (a task's run) or a batch's slice. Part of networks/services/operations.py, which re-exports it."""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from networks.models import Operation
from plumbing.bulk import rows_update
from plumbing.prepared import PreparedObjects, Read
from plumbing.saves import PreparedSave
from plumbing.server_prepared import sent_as

from .operation_notes import announce, appended

logger = logging.getLogger(__name__)
WaitsOn = Operation.WaitsOn
# Waits a worker ends by taking the operation; the others outlast a retry until what they name answers.
ENDED_BY_A_WORKER = (WaitsOn.TASK_QUEUE, WaitsOn.WORKER, WaitsOn.DATABASE, WaitsOn.STATE_STORE)
RUNNING = "Running."


class OperationNotStartable(Exception):
    """The operation is finished, or running under another task: this delivery has nothing to do."""


def operation_start(*, operation_id: int, task_id: str, taken: datetime | None = None) -> Operation:
    """Move QUEUED -> RUNNING for the task that owns the operation; anything else is a stale delivery.

    `taken`: when the worker's process began the task (by default now), its `started` on a first start: when
    a worker took the message, not when its lock on the row was granted (bench/e2e.py's "take" is measured
    to it). The operation comes with its cluster, team, network and container, read in the same query: every
    runner needs them. The network's cluster and team are the operation's when they are the same rows (not
    read twice: the cluster is the widest row, and its key is opened once per copy). That query is compiled
    once per worker process (`_started_read`): compiling its four joins cost more than running it.

    On PostgreSQL the move is one UPDATE guarded by its WHERE (the row's lock held for that statement only),
    sent with the read of the row it wrote as one query: one round trip, which PostgreSQL runs as a
    transaction of its own (apart, the BEGIN, the locked read, the UPDATE and the COMMIT were four)."""
    if connection.vendor != "postgresql":
        return _start_locked(operation_id=operation_id, task_id=task_id, taken=taken)
    now = timezone.now()
    entry = json.dumps([{"at": now.isoformat(), "message": RUNNING}])
    read = Read(_started_read, {"pk": operation_id})
    prepared = _started_read.prepared("default", read.values)
    sql, sent = prepared[0], prepared[1]
    params: list[Any] = [
        Operation.Status.RUNNING,
        taken or now,
        entry,
        *ENDED_BY_A_WORKER,
        WaitsOn.NOTHING,
        *ENDED_BY_A_WORKER,
        now,
        operation_id,
        Operation.Status.QUEUED,
        task_id,
    ]
    start = sent_as(connection, _start_sql(), params)  # prepared once per connection
    with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
        cursor.execute(f"{start}; {sql}", [*params, *sent])
        started = cursor.rowcount
        cursor.cursor.nextset()
        read.fill(prepared, cursor.fetchall())
    if not read.rows:
        raise Operation.DoesNotExist(f"operation {operation_id} does not exist")
    operation = read.rows[0]
    _share_rows(operation)
    if not started:
        raise OperationNotStartable(
            f"operation {operation.pk} is {operation.status} under task {operation.celery_task_id}"
        )
    announce(operation)
    return operation


@functools.cache
def _start_sql() -> str:
    """`_start`'s move as one UPDATE (each SET reads the row as it was), where the task may start it."""
    table = connection.ops.quote_name(Operation._meta.db_table)
    ended = ", ".join(["%s"] * len(ENDED_BY_A_WORKER))
    return (
        f"UPDATE {table} SET status = %s, attempts = attempts + 1, started = COALESCE(started, %s), "
        f"progress = progress || %s::jsonb, waits_on = CASE WHEN waits_on IN ({ended}) THEN %s ELSE waits_on END, "
        f"waiting_since = CASE WHEN waits_on IN ({ended}) THEN NULL ELSE waiting_since END, updated = %s "
        f"WHERE id = %s AND status = %s AND (celery_task_id = '' OR celery_task_id = %s)"
    )


@transaction.atomic
def _start_locked(*, operation_id: int, task_id: str, taken: datetime | None) -> Operation:
    """operation_start elsewhere than PostgreSQL (SQLite: `make run`'s database): its row locked, read, moved
    in memory (`_start`) and written."""
    found = _start_read(pk=operation_id)
    if not found:
        raise Operation.DoesNotExist(f"operation {operation_id} does not exist")
    operation = found[0]
    _start(operation, task_id=task_id, taken=taken)
    _start_save(operation)
    announce(operation)
    return operation


START_FIELDS = ["status", "attempts", "started", "progress", "waits_on", "waiting_since", "updated"]
_start_save = PreparedSave(Operation, START_FIELDS)  # its UPDATE written once (plumbing/saves.py)


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


def _with_rows(operations, *, locked: bool = True):
    """Operations locked, with their cluster, team, network and container read in the same query."""
    operations = operations.select_related("cluster", "tenant", "network", "container")
    return operations.select_for_update(of=("self",)) if locked else operations


# One row by its key: unordered (the model's ordering is only a sort for PostgreSQL to plan at each start).
_start_read = PreparedObjects(lambda pk: _with_rows(Operation.objects.filter(pk=pk).order_by()), "pk")
# The row as the start's UPDATE wrote it, read in the same query (which holds its lock meanwhile).
_started_read = PreparedObjects(lambda pk: _with_rows(Operation.objects.filter(pk=pk).order_by(), locked=False), "pk")


def _share_rows(operation: Operation) -> None:
    """The network's cluster and team are the operation's when they are the same rows."""
    network = operation.network
    if network is not None and network.cluster_id == operation.cluster_id:
        network.cluster = operation.cluster
    if network is not None and network.tenant_id == operation.tenant_id:
        network.tenant = operation.tenant


def _start(operation: Operation, *, task_id: str, taken: datetime | None) -> None:
    """QUEUED -> RUNNING in memory, for the task that owns it; OperationNotStartable otherwise."""
    _share_rows(operation)
    if operation.status != Operation.Status.QUEUED or (
        operation.celery_task_id and operation.celery_task_id != task_id
    ):
        raise OperationNotStartable(
            f"operation {operation.pk} is {operation.status} under task {operation.celery_task_id}"
        )
    operation.status = Operation.Status.RUNNING
    operation.attempts += 1
    operation.started = operation.started or taken or timezone.now()
    operation.progress = appended(operation, RUNNING)
    if operation.waits_on in ENDED_BY_A_WORKER:  # a worker took it, on a database that answers
        operation.waits_on, operation.waiting_since = WaitsOn.NOTHING, None
