"""The operation state machine's last move for several operations at once (a batch's slice run together,
networks/services/networks/run_together.py): what `operations.operation_succeed` does for one, guarded
the same way, in a few statements for all."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from networks.models import Operation
from plumbing.bulk import rows_update
from portal.actors import Actor
from portal.changes import change_new, changes_record

from .operation_notes import announce, appended


@transaction.atomic
def operations_succeed(
    *, finished: Sequence[tuple[Operation, str, dict | None]]
) -> tuple[list[Operation], list[Operation]]:
    """operation_succeed for several running operations (each with its message and result): their rows
    locked and read in one query, written in one UPDATE, and their changes in one INSERT (one
    `operation.succeeded` change each, as operation_succeed records it: webhooks and the audit log see every
    operation). Returns the operations succeeded, as read, and the runs' own copies of those left untouched
    because they were no longer running (operation_succeed refuses each of those with its reason)."""
    runs = {run.pk: (run, message, result) for run, message, result in finished}
    succeeded: list[Operation] = []
    refused: list[Operation] = []
    now = timezone.now()
    for operation in Operation.objects.select_for_update().filter(pk__in=runs).order_by("pk"):
        run, message, result = runs.pop(operation.pk)
        if operation.status != Operation.Status.RUNNING:
            refused.append(run)
            continue
        if Operation.tenant.is_cached(run) and run.tenant_id == operation.tenant_id:
            operation.tenant = run.tenant  # the run's, read when it started: the change records name it
        operation.status = Operation.Status.SUCCEEDED
        operation.finished = operation.updated = now
        operation.result = result or {}
        operation.progress = appended(operation, message)
        operation.waits_on, operation.waiting_since = Operation.WaitsOn.NOTHING, None
        succeeded.append(operation)
    refused.extend(run for run, _, _ in runs.values())  # gone meanwhile: operation_succeed says so alone
    if not succeeded:
        return succeeded, refused
    rows_update(succeeded, ["status", "finished", "result", "progress", "waits_on", "waiting_since", "updated"])
    worker = Actor.system("worker")
    changes_record(
        [
            change_new(
                actor=worker,
                action="operation.succeeded",
                tenant=operation.tenant,
                obj=operation,
                details={"kind": operation.kind, "target": operation.target},
            )
            for operation in succeeded
        ]
    )
    announce(*succeeded)
    return succeeded, refused
