"""What `make run` does first, with each change committed as a served request commits it: a network made
from the page, over the API (with and without an Idempotency-Key), in a batch, and its operation read and
followed; each operation handed to the task queue and stamped `sent` after the commit.

Most tests run in a transaction that never commits, so a commit's hooks (the hand-over and its stamp) run
only in tests like these. `make test` runs this module again on SQLite, the database `make run` serves
from, beside the suite on PostgreSQL: the stamp compiled once once broke every create there, and only there."""

from __future__ import annotations

import pytest

from networks.models import Network, Operation
from networks.services import queue
from tests.factories import make_team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def handed_over(monkeypatch) -> list:
    """The messages the hand-over sends (to no worker: the session's would run them against a cluster of rows)."""
    sent: list = []
    monkeypatch.setattr(queue, "send", lambda *args, **kwargs: sent.append(args))
    return sent


def test_creates_from_the_page_and_the_api_are_committed_handed_over_and_stamped(client, handed_over):
    team = make_team("Committed", api=True)
    client.force_login(team.member)
    page = client.post("/networks/new/", {"cluster": team.cluster.pk, "name": "from-page", "prefixlen": 24})
    assert page.status_code == 302, page.content.decode()[:500]

    api = team.api("member")
    one = api.post("/api/v1/networks/", {"name": "from-api"})
    keyed = api.post("/api/v1/networks/", {"name": "with-key"}, HTTP_IDEMPOTENCY_KEY="make-run-1")
    again = api.post("/api/v1/networks/", {"name": "with-key"}, HTTP_IDEMPOTENCY_KEY="make-run-1")
    batch = api.post("/api/v1/networks/batch/", [{"name": "batch-1"}, {"name": "batch-2"}])
    assert [one.status_code, keyed.status_code, again.status_code, batch.status_code] == [202] * 4
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == keyed.json()["id"]

    names = {"from-page", "from-api", "with-key", "batch-1", "batch-2"}
    assert set(Network.objects.filter(tenant=team.tenant).values_list("name", flat=True)) == names
    operations = Operation.objects.filter(tenant=team.tenant)
    assert operations.count() == 5 and len(handed_over) == 4  # the batch's two share one message
    assert not operations.filter(sent=None).exists()

    read = api.get(one.headers["Location"])
    assert read.status_code == 200 and read.json()["status"] == "queued"
    held = api.get(one.headers["Location"] + "?wait=0.2", HTTP_IF_NONE_MATCH=read.headers["ETag"])
    assert held.status_code == 304
