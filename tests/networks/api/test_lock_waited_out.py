"""A create that waits too long for its swarm's lock, held by another session (a transaction left open in
psql), is answered 503 `database_busy` once its connection's lock_timeout runs out (DATABASE_LOCK_TIMEOUT, which
the web server sets), from the API and from the page alike: nothing is recorded, and the same request goes
through once the lock is let go."""

from __future__ import annotations

import pytest
from django.db import connection

from networks.models import Cluster, Network, Operation
from networks.services import queue
from portal.models import AuditEntry
from tests.apiclient import assert_error
from tests.support import row_locked_elsewhere

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the cluster's row held by another connection
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
]


@pytest.fixture(autouse=True)
def nothing_reaches_a_worker(monkeypatch):
    """A worker an earlier test started would run the creates against a cluster of rows."""
    monkeypatch.setattr(queue, "send", lambda *args, **kwargs: None)


def recorded(name: str) -> tuple[int, int, int]:
    return (
        Network.objects.filter(name=name).count(),
        Operation.objects.filter(network__name=name).count(),
        AuditEntry.objects.filter(action="network.create", object_repr=name).count(),
    )


def test_an_api_create_behind_a_held_swarm_lock_is_answered_busy_then_goes_through(team):
    api = team.api("member")
    key = {"Idempotency-Key": "held-1"}

    with row_locked_elsewhere(Cluster, team.cluster.pk, wait="300ms"):
        response = api.post("/api/v1/networks/", {"name": "held"}, headers=key)

    error = assert_error(response, 503, "database_busy", field=None)
    assert "so nothing was done" in error["message"]
    assert response["Retry-After"] == "5"
    assert recorded("held") == (0, 0, 0)
    assert api.post("/api/v1/networks/", {"name": "held"}, headers=key).status_code == 202
    assert recorded("held") == (1, 1, 1)


def test_a_page_create_behind_a_held_swarm_lock_is_answered_busy(team, client):
    client.force_login(team.member)

    with row_locked_elsewhere(Cluster, team.cluster.pk, wait="300ms"):
        response = client.post("/networks/new/", {"cluster": team.cluster.pk, "name": "held-page", "prefixlen": 24})

    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "so nothing was done" in response.content.decode()
    assert recorded("held-page") == (0, 0, 0)
