"""Watching a running operation from beside it: when its Docker call has had no answer for
STALL_SECONDS, the operation says it waits for the cluster (a field, with since when), and when the
cluster answers again it says so. Without this a frozen manager left "Creating overlay network…" on the
page until the Docker client gave up (~30 s).

The watcher also writes the run's progress notes when the step they name lasts: the run holds them
(operation_notes.notes_held) and writes them with its end, so a quick run writes its row twice, not once
per step."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from networks.engine.call_times import calls_of
from networks.models import Operation

from .operation_notes import notes_held, notes_write_held
from .operations import STALL_SECONDS, operation_cluster_answers, operation_waits_for_cluster

logger = logging.getLogger(__name__)

WATCH_EVERY_SECONDS = 0.5


@contextlib.contextmanager
def operation_watched(*, operation: Operation) -> Iterator[None]:
    """Run the body (the operation's runner, in this thread) with a watcher thread beside it."""
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch,
        kwargs={
            "operation": operation,
            "thread": threading.get_ident(),
            "stop": stop,
            "waiting": operation.waits_on == Operation.WaitsOn.CLUSTER,  # an earlier try's wait goes on
        },
        name=f"watch-operation-{operation.pk}",
        daemon=True,
    )
    with notes_held(operation):  # those still held once the watcher has stopped are written last
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join(timeout=5)


def _watch(*, operation: Operation, thread: int, stop: threading.Event, waiting: bool) -> None:
    noted_at = time.monotonic()  # when this watcher last saw the wait begin (or took it over)
    try:
        while not stop.wait(WATCH_EVERY_SECONDS):
            notes_write_held(operation)  # the step they name has lasted until this look
            calls = calls_of(thread)
            now = time.monotonic()
            if waiting and calls.answered_at is not None and calls.answered_at > noted_at:
                operation_cluster_answers(operation_id=operation.pk)
                waiting = False
            elif not waiting and calls.waiting_since is not None and now - calls.waiting_since >= STALL_SECONDS:
                since = timezone.now() - timedelta(seconds=now - calls.waiting_since)
                operation_waits_for_cluster(operation=operation, since=since)
                waiting, noted_at = True, now
    except Exception:  # the watcher only tells; the run itself goes on whatever happens here
        logger.exception("the watcher of operation %s stopped", operation.pk)
    finally:
        connection.close()  # this thread's own database connection
