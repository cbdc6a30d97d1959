"""networks/tasks.py: an operation whose run meets a lost database connection waits and is run again;
it fails only when every retry met it, with a sentence about the database (not internal_error).

A unit test of the task class: the runner is a stand-in that raises what a cut connection raises, and
the task runs eagerly (its retries at once). The real cut, with a real worker, is
tests/resilience/test_database_cut.py."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

from networks import tasks
from networks.models import Operation
from networks.services.operations import operation_succeed
from networks.services.runners import Runner
from tests.factories import make_operation, make_team

pytestmark = pytest.mark.django_db


def runner_meeting(faults: list[BaseException]) -> Runner:
    def run(*, operation):
        if faults:
            raise faults.pop(0)
        operation_succeed(operation=operation, message="Done.")

    return Runner(run)


def run(operation: Operation) -> Operation:
    tasks.run_operation_task.apply(args=(operation.pk,), task_id=str(operation.pk))
    return Operation.objects.get(pk=operation.pk)


def test_a_lost_connection_is_waited_out_and_the_operation_succeeds(monkeypatch):
    faults = [OperationalError("terminating connection due to administrator command")]
    monkeypatch.setattr(tasks, "runner_for", lambda operation: runner_meeting(faults))
    operation = make_operation(make_team(), celery_task_id="")

    done = run(operation)

    assert done.status == Operation.Status.SUCCEEDED and done.attempts == 2
    messages = [step["message"] for step in done.progress]
    assert "Waiting for the portal's database: its connection was lost. The worker tries again shortly." in messages


def test_an_operation_fails_for_the_database_only_after_every_retry(monkeypatch):
    faults = [InterfaceError("connection already closed")] * (tasks.OperationTask.max_retries + 1)
    monkeypatch.setattr(tasks, "runner_for", lambda operation: runner_meeting(faults))
    operation = make_operation(make_team(), celery_task_id="")

    done = run(operation)

    assert done.status == Operation.Status.FAILED and not faults
    assert done.error_code == "database_unavailable"
    assert done.error == (
        "The portal's database did not answer through every retry. Try again; if it keeps happening, "
        "an admin should check PostgreSQL."
    )
