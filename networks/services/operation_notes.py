"""What an operation says along the way (its progress notes, an image pull's transfer) and who is woken
when it changes (`announce`: ?wait=, the pages): written without waiting for the disk, since a crash may
lose the last notes but never a change of state (networks/services/operations.py owns those)."""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.utils import timezone

from networks.models import Operation
from plumbing.bulk import rows_update

from . import notices


def appended(operation: Operation, message: str) -> list:
    return [*operation.progress, {"at": timezone.now().isoformat(), "message": message}]


def announce(operation: Operation) -> None:
    """Wake whoever waits on the operation, its network or its container (?wait=, the pages) once this commits."""
    notices.announce(notices.operation_channels(operation))


def operation_progress(*, operation: Operation, message: str) -> None:
    operation.progress = appended(operation, message)
    note(operation, progress=operation.progress)


def operation_transfer(*, operation: Operation, transfer: dict) -> None:
    """How far an image pull has come (layers, bytes), for the page and the API to show as it goes."""
    operation.transfer = transfer
    note(operation, transfer=transfer)


def operations_progress(notes: list[tuple[Operation, str]]) -> None:
    """operation_progress for several operations at once (a batch's run): one UPDATE for all."""
    now = timezone.now()
    for operation, message in notes:
        operation.progress, operation.updated = appended(operation, message), now
    with without_flush():
        rows_update([operation for operation, _ in notes], ["progress", "updated"])
        for operation, _ in notes:
            announce(operation)


def note(operation: Operation, **fields) -> None:
    """Write what an operation says along the way, without waiting for the disk (`without_flush`): a
    crash could lose the last notes, never a change of state, and a worker no longer waits a disk flush
    for each step it reports."""
    with without_flush():
        Operation.objects.filter(pk=operation.pk).update(**fields, updated=timezone.now())
        announce(operation)


@contextlib.contextmanager
def without_flush():
    """A transaction whose commit does not wait for the disk (on PostgreSQL, synchronous_commit off for
    this transaction only): for writes a crash may lose."""
    with transaction.atomic():
        if transaction.get_connection().vendor == "postgresql":
            with transaction.get_connection().cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield
