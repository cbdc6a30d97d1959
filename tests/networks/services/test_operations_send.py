"""The outbox's stamp after a message is published (`operations_send`): a queued operation now waits for
a worker; one a worker has started meanwhile (the stamp can come after the start) keeps saying it waits
on nothing. The queue itself is stood in for: what is checked is the stamp."""

import pytest

from networks.models import Operation
from networks.services import operations, queue
from tests.factories import make_operation, make_team

pytestmark = pytest.mark.django_db

WaitsOn = Operation.WaitsOn


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(queue, "send", lambda name, *args, **kwargs: sent.append((name, args, kwargs["task_id"])))
    return sent


def test_a_queued_operation_waits_for_a_worker_and_a_started_one_does_not(published):
    team = make_team("Blue")
    queued = make_operation(team, celery_task_id="t-queued", waits_on=WaitsOn.TASK_QUEUE)
    started = make_operation(team, status=Operation.Status.RUNNING, celery_task_id="t-started")

    assert operations.operations_send([(queued, "t-queued"), (started, "t-started")]) == 2

    assert [task_id for _, _, task_id in published] == ["t-queued", "t-started"]
    queued.refresh_from_db()
    started.refresh_from_db()
    assert (queued.waits_on, started.waits_on) == (WaitsOn.WORKER, WaitsOn.NOTHING)
    assert queued.sent is not None and started.sent is not None
