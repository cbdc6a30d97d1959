"""What an operation says along the way (its progress notes, an image pull's transfer) and who is woken
when it changes (`announce`: ?wait=, the pages): written without waiting for the disk, since a crash may
lose the last notes but never a change of state (networks/services/operations.py owns those).

While a run is watched (services/watch.py: `notes_held`), its notes are held in the run's copy of the
operation and written with the run's next write of the operation's row (its end: `progress_ending`), or by
the watcher at its next look (`notes_write_held`, every half second) when the step they name lasts: a run of
a few tens of ms then writes its row twice (start, end) instead of once per step. During a watched run its
copy of the progress is the whole of it (nobody else writes a running operation's notes but the watcher,
through `progress_ending` too), so whoever writes it writes that copy.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.utils import timezone

from networks.models import Operation
from plumbing.bulk import rows_update

from . import notices


def appended(operation: Operation, message: str) -> list:
    return [*operation.progress, {"at": timezone.now().isoformat(), "message": message}]


def announce(*operations: Operation) -> None:
    """Wake whoever waits on the operations, their networks or their containers (?wait=, the pages) once this
    commits: one word each, all sent at once (a batch's slice then asks Redis once, not once per operation)."""
    notices.announce([name for operation in operations for name in notices.operation_channels(operation)])


@dataclass
class _Watched:
    run: Operation  # the run's copy of the operation: the whole of its progress while it is watched
    held: bool = False  # notes of the run wait to be written
    # While the write of an end that carries held notes has not committed: those notes without the end's message,
    # to be written instead, should that write fail (a batch of the end's writes refused, rolled back).
    unended: list | None = None

    def notes(self) -> list:
        return self.run.progress if self.unended is None else self.unended


# Watched runs by operation id; the run's thread and its watcher's share them under the lock.
_watched: dict[int, _Watched] = {}
_watched_lock = threading.Lock()


def operation_progress(*, operation: Operation, message: str) -> None:
    with _watched_lock:
        watched = _watched.get(operation.pk)
        if watched is not None:
            watched.run.progress = operation.progress = appended(watched.run, message)
            watched.held = True
            return
        operation.progress = appended(operation, message)
    note(operation, progress=operation.progress)


@contextlib.contextmanager
def notes_held(operation: Operation) -> Iterator[None]:
    """Hold the notes of `operation`'s run (written by `progress_ending` or `notes_write_held`); those still
    held at the end are written then, before whatever comes after the run (a wait, a failure) is."""
    with _watched_lock:
        _watched[operation.pk] = _Watched(operation)
    try:
        yield
    except BaseException:
        # What the run met (a lost database among them) is what its task handles, not this write's error.
        with contextlib.suppress(DatabaseError):
            _notes_release(operation)
        raise
    _notes_release(operation)


def _notes_release(operation: Operation) -> None:
    with _watched_lock:
        watched = _watched.pop(operation.pk, None)
    if watched is not None and watched.held:
        _write_running(watched.run, watched.notes())


def notes_write_held(operation: Operation) -> None:
    """Write the notes the run of `operation` holds, unless it has ended meanwhile (its end wrote them)."""
    with _watched_lock:
        watched = _watched.get(operation.pk)
        if watched is None or not watched.held:
            return
        watched.held, progress = False, watched.notes()
    _write_running(watched.run, progress)


def _write_running(operation: Operation, progress: list) -> None:
    with without_flush():
        if Operation.objects.filter(pk=operation.pk, status=Operation.Status.RUNNING).update(
            progress=progress, updated=timezone.now()
        ):
            announce(operation)


def progress_ending(run: Operation, *, written: list, message: str) -> list:
    """The progress to write with a change of the operation's row (`written`: the row's, read under its lock)
    followed by `message`: while the run is watched, the run's copy (with its notes not yet written, or being
    written by the watcher right now). `run`'s copy becomes it. Its held notes count as written once the
    change commits: until then (the change may be sent later with other writes, and refused with them), they
    are still held, without `message`, and written at the run's end should the change not commit."""
    with _watched_lock:
        watched = _watched.get(run.pk)
        base = watched.run.progress if watched is not None else written
        run.progress = [*base, {"at": timezone.now().isoformat(), "message": message}]
        if watched is not None:
            watched.unended = base if watched.held else None
            watched.run.progress = run.progress
    if watched is not None:
        transaction.on_commit(lambda: _ended(watched))
    return run.progress


def _ended(watched: _Watched) -> None:
    """The end carrying the run's notes committed: nothing is held any more."""
    with _watched_lock:
        watched.held, watched.unended = False, None


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
        announce(*(operation for operation, _ in notes))


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


def one_without_flush(sql: str, params: list) -> None:
    """One statement `without_flush`, in one round trip where it can: outside a transaction, on PostgreSQL, sent
    with its SET LOCAL as one query, which PostgreSQL runs as a transaction of its own (apart, the BEGIN, the
    SET and the COMMIT are three round trips more, each a wait and the CPU of a send and a receive)."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and connection.get_autocommit() and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL synchronous_commit TO OFF; {sql}", params)
        return
    with without_flush(), connection.cursor() as cursor:
        cursor.execute(sql, params)
