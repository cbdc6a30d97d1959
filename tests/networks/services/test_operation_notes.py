"""networks/services/operation_notes.py: a watched run's progress notes are held and written with its end, or
by its watcher when the step they name lasts; none is lost on the way to a wait, a failure or a stall."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from networks.models import Operation
from networks.services.operation_notes import notes_held, notes_write_held
from networks.services.operations import (
    operation_fail,
    operation_progress,
    operation_start,
    operation_succeed,
    operation_waits_for_cluster,
)
from tests.factories import make_operation, make_team

pytestmark = pytest.mark.django_db

STEPS = ["Reserving the block.", "Creating the network.", "Writing the state."]


@pytest.fixture
def running() -> Operation:
    queued = make_operation(make_team(), celery_task_id="task-1")
    return operation_start(operation_id=queued.pk, task_id="task-1")


def messages(operation: Operation) -> list[str]:
    return [step["message"] for step in Operation.objects.get(pk=operation.pk).progress]


def test_a_quick_runs_notes_are_written_with_its_end_in_one_write(running):
    with notes_held(running):
        with CaptureQueriesContext(connection) as notes:
            for step in STEPS:
                operation_progress(operation=running, message=step)
        assert len(notes) == 0 and messages(running)[-1] == "Running."
        operation_succeed(operation=running, message="Done.")

    assert messages(running) == ["Queued: waiting for a worker.", "Running.", *STEPS, "Done."]
    assert [step["message"] for step in running.progress] == messages(running)


def test_notes_held_by_an_end_that_is_rolled_back_are_written_without_its_message(running):
    """An end may be sent with other writes and refused with them (a create's end: plumbing/writes.py): its
    notes stay held until it commits, and the run's end writes them, not the end's message."""
    with pytest.raises(RuntimeError), notes_held(running):
        for step in STEPS:
            operation_progress(operation=running, message=step)
        with transaction.atomic():
            operation_succeed(operation=running, message="Done.")
            raise RuntimeError("the end's writes were refused")

    assert messages(running) == ["Queued: waiting for a worker.", "Running.", *STEPS]


def test_without_a_watcher_each_note_is_written_at_once(running):
    operation_progress(operation=running, message=STEPS[0])
    assert messages(running)[-1] == STEPS[0]


def test_the_watcher_writes_the_notes_of_a_step_that_lasts_and_the_end_follows_them(running):
    with notes_held(running):
        operation_progress(operation=running, message=STEPS[0])
        notes_write_held(running)  # the watcher's look
        assert messages(running)[-1] == STEPS[0]
        with CaptureQueriesContext(connection) as again:
            notes_write_held(running)  # nothing new held: nothing written
        assert len(again) == 0
        operation_progress(operation=running, message=STEPS[1])
        operation_succeed(operation=running, message="Done.")
        notes_write_held(running)  # a look after the end writes nothing over it

    assert messages(running)[-3:] == [STEPS[0], STEPS[1], "Done."]


def test_the_notes_held_when_the_run_raises_are_written_before_its_failure(running):
    with pytest.raises(RuntimeError), notes_held(running):
        operation_progress(operation=running, message=STEPS[0])
        raise RuntimeError("the cluster refused")
    operation_fail(operation_id=running.pk, error="It refused.")

    assert messages(running)[-2:] == [STEPS[0], "Failed: It refused."]


def test_a_stall_noted_by_the_watcher_comes_after_the_notes_held(running):
    with notes_held(running):
        operation_progress(operation=running, message=STEPS[1])
        operation_waits_for_cluster(operation=running, since=running.started)
        operation_progress(operation=running, message=STEPS[2])
        operation_succeed(operation=running, message="Done.")

    stalled = "The cluster has not answered for 5 s; waiting for it."
    assert messages(running)[-4:] == [STEPS[1], stalled, STEPS[2], "Done."]


def test_a_run_that_ended_elsewhere_is_not_written_over(running):
    with notes_held(running):
        operation_progress(operation=running, message=STEPS[0])
        operation_fail(operation_id=running.pk, error="Given up.")  # staff gave it up meanwhile
    assert messages(running)[-1] == "Failed: Given up."
