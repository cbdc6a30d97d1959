"""networks/services/watch.py: one watcher thread per process looks at every watched run, each every
WATCH_EVERY_SECONDS from its start; it writes the notes of a step that lasts, says when a Docker call has had
no answer for STALL_SECONDS and when the cluster answers again, and never looks at a run once it has ended.

No cluster: the run's Docker call is a `timed_call` that sleeps. The periods are shortened so the test does
not wait long; what is asserted is what was written and by which thread, never how fast."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from networks.engine.call_times import timed_call
from networks.models import Operation
from networks.services import watch
from networks.services.operations import operation_progress, operation_start
from tests.factories import make_operation, make_team

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 30  # seconds: only so that a broken test fails instead of hanging; never a measure


@pytest.fixture(autouse=True)
def quick_looks(monkeypatch):
    monkeypatch.setattr(watch, "WATCH_EVERY_SECONDS", 0.05)
    monkeypatch.setattr(watch, "STALL_SECONDS", 0.2)
    monkeypatch.setattr(watch, "IDLE_SECONDS", 0.3)
    monkeypatch.setattr(watch, "_watcher", watch._Watcher())


@pytest.fixture
def team():
    return make_team()


def running(team) -> Operation:
    queued = make_operation(team, celery_task_id="task-1")
    return operation_start(operation_id=queued.pk, task_id="task-1")


def stored(operation: Operation) -> Operation:
    return Operation.objects.get(pk=operation.pk)


def until(condition) -> bool:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_runs_one_after_another_and_side_by_side_share_one_watcher_thread(team):
    first, second, third = running(team), running(team), running(team)
    watcher = watch._watcher
    with watch.operation_watched(operation=first):
        thread = watcher.thread
        assert thread is not None and thread.is_alive()
    with watch.operation_watched(operation=second), watch.operation_watched(operation=third):
        assert watcher.thread is thread
    assert until(lambda: not thread.is_alive() and watcher.thread is None)  # idle for IDLE_SECONDS, it ends
    with watch.operation_watched(operation=first):
        assert watcher.thread is not None and watcher.thread is not thread  # the next run starts another


def test_the_watcher_writes_the_notes_of_a_step_that_lasts_and_nothing_after_the_end(team):
    operation = running(team)
    with watch.operation_watched(operation=operation):
        operation_progress(operation=operation, message="Creating the network.")
        assert until(lambda: stored(operation).progress[-1]["message"] == "Creating the network.")
    connection.close()
    ended = stored(operation).progress
    time.sleep(0.2)  # looks would have come by now
    assert stored(operation).progress == ended


def test_a_call_without_an_answer_says_the_run_waits_for_the_cluster_and_its_answer_clears_it(team):
    operation = running(team)
    with watch.operation_watched(operation=operation):
        with timed_call():  # a Docker call the cluster does not answer until the wait is seen
            assert until(lambda: stored(operation).waits_on == Operation.WaitsOn.CLUSTER)
        assert until(lambda: stored(operation).waits_on == Operation.WaitsOn.NOTHING)
    assert "has not answered" in stored(operation).progress[-1]["message"]


def test_each_run_is_looked_at_for_itself(team):
    """Two runs at once, one stuck in a call: only that one says it waits for the cluster."""
    stuck, moving = running(team), running(team)
    seen = threading.Event()

    def stuck_run():
        try:
            with watch.operation_watched(operation=stuck), timed_call():
                seen.wait(DEADLINE)
        finally:
            connection.close()

    thread = threading.Thread(target=stuck_run)
    with watch.operation_watched(operation=moving):
        thread.start()
        assert until(lambda: stored(stuck).waits_on == Operation.WaitsOn.CLUSTER)
        assert stored(moving).waits_on == Operation.WaitsOn.NOTHING
        seen.set()
        thread.join(DEADLINE)
