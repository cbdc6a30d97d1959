"""Watching a running operation from beside it: when its Docker call has had no answer for
STALL_SECONDS, the operation says it waits for the cluster (a field, with since when), and when the
cluster answers again it says so. Without this a frozen manager left "Creating overlay network…" on the
page until the Docker client gave up (~30 s).

The watcher also writes the run's progress notes when the step they name lasts: the run holds them
(operation_notes.notes_held) and writes them with its end, so a quick run writes its row twice, not once
per step.

One watcher thread per process looks at every watched run, each every WATCH_EVERY_SECONDS from its start:
a thread started and joined per run cost ~140 µs of CPU, against a run of ~3.5 ms (bench/worker_create.py)
that the watcher never looks at. The thread waits until the next run's look is due; with no run it wakes
every WATCH_EVERY_SECONDS (a new run's first look is never earlier than that, so it is never woken) and it
ends after IDLE_SECONDS without one; the next run starts it again. A run's end waits for a look at it in
progress (at most LOOK_WAIT_SECONDS), so nothing is written for it once its end is written."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from networks.engine.call_times import calls_of
from networks.models import Operation

from .operation_notes import notes_held, notes_write_held
from .operations import STALL_SECONDS, operation_cluster_answers, operation_waits_for_cluster

logger = logging.getLogger(__name__)

WATCH_EVERY_SECONDS = 0.5
IDLE_SECONDS = 30.0
LOOK_WAIT_SECONDS = 5.0


@dataclass(eq=False)
class _Run:
    operation: Operation
    thread: int  # the run's thread, whose Docker calls tell (call_times.py)
    waiting: bool  # the operation says it waits for the cluster
    noted_at: float  # when the watcher last saw the wait begin (or took it over)
    due: float  # when the next look is
    looking: threading.Lock = field(default_factory=threading.Lock)  # held by the watcher during a look


class _Watcher:
    """The process's watched runs, and its watcher thread while there are some (or were, lately)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: set[_Run] = set()
        self.thread: threading.Thread | None = None


_watcher = _Watcher()


def _forget_the_parents() -> None:
    global _watcher
    _watcher = _Watcher()  # a forked child has none of its parent's threads: its runs get a watcher of their own


os.register_at_fork(after_in_child=_forget_the_parents)


@contextlib.contextmanager
def operation_watched(*, operation: Operation) -> Iterator[None]:
    """Run the body (the operation's runner, in this thread) watched by the process's watcher."""
    now = time.monotonic()
    run = _Run(
        operation,
        threading.get_ident(),
        waiting=operation.waits_on == Operation.WaitsOn.CLUSTER,  # an earlier try's wait goes on
        noted_at=now,
        due=now + WATCH_EVERY_SECONDS,
    )
    with notes_held(operation):  # those still held once the watcher has left the run are written last
        watcher = _watcher
        with watcher.lock:
            watcher.runs.add(run)
            if watcher.thread is None:
                watcher.thread = threading.Thread(target=_watch, args=(watcher,), name="watch-operations", daemon=True)
                watcher.thread.start()
        try:
            yield
        finally:
            with watcher.lock:
                watcher.runs.discard(run)
            if run.looking.acquire(timeout=LOOK_WAIT_SECONDS):  # a look begun at it ends first
                run.looking.release()


def _watch(watcher: _Watcher) -> None:
    try:
        _watch_runs(watcher)
    finally:  # whatever ended it, the next run starts another
        with watcher.lock:
            if watcher.thread is threading.current_thread():
                watcher.thread = None


def _watch_runs(watcher: _Watcher) -> None:
    idle_since = time.monotonic()
    while True:
        with watcher.lock:
            now = time.monotonic()
            if watcher.runs:
                idle_since = now
            elif now - idle_since >= IDLE_SECONDS:
                return
            due = [run for run in watcher.runs if run.due <= now]
            following = min((run.due for run in watcher.runs if run.due > now), default=now + WATCH_EVERY_SECONDS)
        for run in due:
            with run.looking:
                with watcher.lock:
                    if run not in watcher.runs:  # ended meanwhile
                        continue
                looked = _look(run)
                with watcher.lock:
                    run.due = time.monotonic() + WATCH_EVERY_SECONDS
                    if not looked:  # as a watcher that failed once: this run is no longer watched
                        watcher.runs.discard(run)
        if due:
            with contextlib.suppress(Exception):
                connection.close()  # the watcher's own database connection, opened by a look's write
        time.sleep(max(0.0, following - time.monotonic()))


def _look(run: _Run) -> bool:
    """One look at the run; False when it failed (logged)."""
    operation = run.operation
    try:
        notes_write_held(operation)  # the step they name has lasted until this look
        calls = calls_of(run.thread)
        now = time.monotonic()
        if run.waiting and calls.answered_at is not None and calls.answered_at > run.noted_at:
            operation_cluster_answers(operation_id=operation.pk)
            run.waiting = False
        elif not run.waiting and calls.waiting_since is not None and now - calls.waiting_since >= STALL_SECONDS:
            since = timezone.now() - timedelta(seconds=now - calls.waiting_since)
            operation_waits_for_cluster(operation=operation, since=since)
            run.waiting, run.noted_at = True, now
    except Exception:  # the watcher only tells; the run itself goes on whatever happens here
        logger.exception("the watcher of operation %s stopped", operation.pk)
        return False
    return True
