"""An operation a worker finishes wakes whoever waits on it at once: a `?wait=` request and a page's long
poll. The worker here is a thread that moves the operation through the state machine (nothing else
runs it: the cluster is only rows); the real Redis carries the word (services/notices.py).

The database re-checks are pushed past the test's bound, so only the word can answer in time; and
with Redis down, the re-checks answer instead and nothing hangs.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.http import Http404
from django.test import override_settings

from networks.api import base as api_base
from networks.models import Network, Operation
from networks.services import notices
from networks.services.operations import operation_start, operation_succeed
from plumbing.live import SEEN_HEADER, hold_until_changed
from tests.apiclient import make_team as make_api_team
from tests.pages import make_network, make_operation, make_team

pytestmark = pytest.mark.django_db(transaction=True)

BOUND = 10  # seconds: far above the word's way, far below every re-check


@pytest.fixture(autouse=True)
def only_words_answer_in_time(monkeypatch):
    monkeypatch.setattr(api_base, "WAIT_RECHECK_SECONDS", 60.0)
    monkeypatch.setattr(notices, "PAGE_RECHECK_SECONDS", 60.0)
    monkeypatch.setattr("plumbing.live.LONG_POLL_SECONDS", 30.0)
    monkeypatch.setattr(notices, "_down_until", 0.0)


def finish_soon(operation_id: int, *, after: float = 0.5) -> threading.Thread:
    """A worker, in a thread: it starts the operation and, a moment later, succeeds it."""

    def work():
        try:
            time.sleep(after)
            task_id = Operation.objects.get(pk=operation_id).celery_task_id or "thread"
            operation = operation_start(operation_id=operation_id, task_id=task_id)
            operation_succeed(operation=operation, message="Done by the thread.", result={"id": "abc"})
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_a_wait_request_answers_when_the_worker_finishes():
    api = make_api_team("Waiters").api("member")
    asked = time.monotonic()
    holder = {}

    def post():
        try:
            holder["response"] = api.post("/api/v1/networks/?wait=30", {"name": "awaited"})
        finally:
            connection.close()

    request = threading.Thread(target=post)
    request.start()
    operation = None
    while operation is None and time.monotonic() - asked < BOUND:  # the POST's operation, once committed
        operation = Operation.objects.filter(target="awaited").first()
        time.sleep(0.05)
    assert operation is not None
    finish_soon(operation.pk).join()
    request.join(BOUND)
    answered = time.monotonic() - asked

    response = holder["response"]
    assert response.status_code == 200, response.content[:500]
    assert response.json()["status"] == "succeeded" and response.json()["result"] == {"id": "abc"}
    assert answered < BOUND, f"?wait= answered {answered:.1f} s after it was asked"


def long_poll(client, path: str, page: str) -> tuple[object, float]:
    """Ask for a page's live part with the version the page shows, as htmx does; the answer and its time."""
    version = re.search(r'"X-Seen-Version": "(\w+)"', page).group(1)
    asked = time.monotonic()
    response = client.get(path, headers={"HX-Request": "true", "X-Seen-Version": version})
    return response, time.monotonic() - asked


def test_the_operation_page_and_the_network_page_answer_when_the_worker_finishes(client):
    team = make_team()
    network = make_network(team, "fresh", status=Network.Status.CREATING)
    client.force_login(team.viewer)

    operation = make_operation(team, target="fresh", network=network, sent=None)
    page = client.get(f"/operations/{operation.pk}/").content.decode()
    finish_soon(operation.pk)
    response, took = long_poll(client, f"/operations/{operation.pk}/progress/", page)
    assert response.status_code == 200 and b"Running." in response.content and took < BOUND  # its next step

    page = client.get(f"/operations/{operation.pk}/").content.decode()
    if b"Succeeded" not in response.content:
        response, took = long_poll(client, f"/operations/{operation.pk}/progress/", page)
    assert response.status_code == 200 and b"Succeeded" in response.content and took < BOUND

    second = make_operation(team, target="fresh", network=network, sent=None)
    page = client.get(f"/networks/{network.pk}/").content.decode()
    finish_soon(second.pk)
    response, took = long_poll(client, f"/networks/{network.pk}/status/", page)
    assert response.status_code == 200 and took < BOUND  # the status line with the operation's next step
    shown = re.search(r'"X-Seen-Version": "(\w+)"', page).group(1)
    assert re.search(r'"X-Seen-Version": "(\w+)"', response.content.decode()).group(1) != shown


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_redis_down_a_wait_request_still_answers_by_reading_the_database(monkeypatch):
    monkeypatch.setattr(api_base, "WAIT_RECHECK_SECONDS", 0.2)
    monkeypatch.setattr(api_base, "WAIT_POLL_SECONDS", 0.2)
    team = make_team()
    operation = make_operation(team, target="lonely", sent=None)
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0"):  # nobody listens there
        worker = finish_soon(operation.pk)
        answered = api_base.operation_wait_until_finished(operation, 30)
        worker.join()
    assert answered.status == Operation.Status.SUCCEEDED


def test_a_long_poll_on_something_removed_meanwhile_answers_404_not_500(rf):
    """A page left open on an object that is then deleted (a cluster deregistered) gets a 404."""
    request = rf.get("/containers/1/status/", headers={SEEN_HEADER: "v1"})

    def gone():
        raise ObjectDoesNotExist

    with pytest.raises(Http404):
        hold_until_changed(request, gone, lambda changed, seconds: changed())
