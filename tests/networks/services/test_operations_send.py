"""The outbox's stamp after a message is published (`operations_send`): a queued operation now waits for
a worker; one a worker has started meanwhile (the stamp can come after the start) keeps saying it waits
on nothing. The queue itself is stood in for: what is checked is the stamp."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no synchronous_commit")
def test_one_operations_stamp_after_the_commit_is_one_round_trip_without_flush(published):
    """After the commit (autocommit), the stamp and its SET LOCAL go as one query, which PostgreSQL runs as a
    transaction of its own: no BEGIN, SET and COMMIT apart; the session keeps waiting for the disk after it."""
    team = make_team("Amber")
    queued = make_operation(team, celery_task_id="t-one")
    with CaptureQueriesContext(connection) as queries:
        assert operations.operations_send([(queued, "t-one")]) == 1
    assert len(queries) == 1, [query["sql"] for query in queries]
    assert queries[0]["sql"].startswith("SET LOCAL synchronous_commit TO OFF; UPDATE"), queries[0]["sql"]
    queued.refresh_from_db()
    assert queued.sent is not None and queued.waits_on == WaitsOn.WORKER
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
