"""An operation's `waiting_for` says what a queued operation waits for, and nothing once it runs."""

import pytest
from django.utils import timezone

from networks.models import Operation

pytestmark = pytest.mark.django_db


def test_waiting_for_names_the_queue_then_the_work_ahead_then_nothing(team):
    api = team.api("member")
    first = api.post("/api/v1/networks/", {"name": "first"}).json()
    second = api.post("/api/v1/networks/", {"name": "second"}).json()
    # Nothing reached the task queue in this test (no commit): both wait for it.
    assert "task queue" in api.get(f"/api/v1/operations/{second['id']}/").json()["waiting_for"]

    Operation.objects.update(sent=timezone.now())
    body = api.get(f"/api/v1/operations/{second['id']}/").json()
    assert body["waiting_for"] == "Waiting for a worker: it is busy with 1 operation ahead of this one."

    Operation.objects.filter(pk=first["id"]).update(status=Operation.Status.RUNNING)
    Operation.objects.filter(pk=second["id"]).update(status=Operation.Status.RUNNING)
    assert api.get(f"/api/v1/operations/{second['id']}/").json()["waiting_for"] == ""
