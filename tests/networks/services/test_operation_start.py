"""networks/services/operations.py's start: an operation's `started` is when a worker's process began its
task (the message taken), not when the start's lock on the row was granted; a later start keeps the first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from networks.models import Operation
from networks.services.operations import operation_start, operation_wait, operations_start
from tests.factories import make_operation, make_team

pytestmark = pytest.mark.django_db


def test_started_is_when_the_task_began_and_a_retry_keeps_the_first():
    queued = make_operation(make_team(), celery_task_id="task-1")
    taken = timezone.now() - timedelta(seconds=3)  # a start that waited for the row's lock
    operation_start(operation_id=queued.pk, task_id="task-1", taken=taken)
    assert Operation.objects.get(pk=queued.pk).started == taken
    assert operation_wait(operation_id=queued.pk, message="Waiting for the cluster.")
    operation_start(operation_id=queued.pk, task_id="task-1", taken=timezone.now())
    again = Operation.objects.get(pk=queued.pk)
    assert (again.status, again.attempts, again.started) == (Operation.Status.RUNNING, 2, taken)


def test_a_slice_is_started_when_its_task_began():
    team = make_team()
    queued = [make_operation(team, celery_task_id="task-2") for _ in range(3)]
    taken = timezone.now() - timedelta(seconds=2)
    operations_start(operation_ids=[op.pk for op in queued], task_id="task-2", taken=taken)
    assert set(Operation.objects.filter(pk__in=[op.pk for op in queued]).values_list("started", flat=True)) == {taken}


def test_without_a_time_given_it_is_the_start_itself():
    queued = make_operation(make_team(), celery_task_id="task-3")
    before = timezone.now()
    started = operation_start(operation_id=queued.pk, task_id="task-3").started
    assert started is not None and before <= started <= timezone.now()
