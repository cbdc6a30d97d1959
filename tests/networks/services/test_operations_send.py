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


def test_one_operation_is_stamped_as_several_are(published):
    """One message (every single create's): the same stamp, by the UPDATE compiled once; an operation sent
    again meanwhile under another task id is not stamped by the stale send."""
    team = make_team("Green")
    queued = make_operation(team, celery_task_id="t-one", waits_on=WaitsOn.TASK_QUEUE)
    started = make_operation(team, status=Operation.Status.RUNNING, celery_task_id="t-two")
    resent = make_operation(team, celery_task_id="t-new")

    for operation, task_id in ((queued, "t-one"), (started, "t-two"), (resent, "t-old")):
        assert operations.operations_send([(operation, task_id)]) == 1
        operation.refresh_from_db()
    assert (queued.waits_on, started.waits_on, resent.waits_on) == (WaitsOn.WORKER, WaitsOn.NOTHING, WaitsOn.NOTHING)
    assert queued.sent is not None and started.sent is not None and resent.sent is None
