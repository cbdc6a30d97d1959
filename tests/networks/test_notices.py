"""An operation a worker finishes wakes whoever waits on it at once: a `?wait=` request and a page's long
poll. The worker here is a thread that moves the operation through the state machine (nothing else
runs it: the cluster is only rows); the real Redis carries the word (services/notices.py).

What is asserted is the way the answer came, not how fast: each wait is watched (its database checks,
the words its subscription heard on Redis, its pauses), and the check that finds the change must come
straight after a word on the waited-on channel. The database re-checks are pushed far past the test,
so they cannot answer instead. With Redis down, the wait is seen polling the database in short naps.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
import types
import uuid

import pytest
import redis
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.http import Http404
from django.test import override_settings

from networks.api.views import base as api_base
from networks.models import Network, Operation
from networks.services import notices
from networks.services.operations import operation_start, operation_succeed
from plumbing.live import hold_until_changed
from tests.factories import make_network, make_operation, make_team

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 60  # seconds: only so that a broken test fails instead of hanging; never a measure
SEEN = "X-Seen-Version"
# Redis's pub/sub spans its numbered databases: other test runs' operation 1 speaks on the same
# channel as this run's. The channels here are this run's own.
CHANNELS = f"overlay-portal:changed:{uuid.uuid4().hex}:"


class Waits:
    """What each wait did, in order: ("check", found a change?), ("word", channel) for a word its
    subscription heard, ("listened",) for a listen that heard none, ("nap", seconds) for a pause
    while it could not listen."""

    def __init__(self):
        self.waits: list[list[tuple]] = []
        self.lock = threading.Lock()

    def record(self, event: tuple) -> None:
        with self.lock:
            self.waits[-1].append(event)

    def started(self, number: int) -> bool:
        """The `number`-th wait (from 1) has settled into listening with nothing changed yet: it found
        nothing once more after its first pause (Redis's confirmation of the subscription wakes a
        listener once, with no word; a wait that cannot listen naps instead)."""
        with self.lock:
            if len(self.waits) < number:
                return False
            events = self.waits[number - 1]
            paused = next((i for i, event in enumerate(events) if event[0] in ("listened", "nap")), None)
            return paused is not None and ("check", False) in events[paused + 1 :]


@pytest.fixture(autouse=True)
def only_words_answer(monkeypatch):
    """Re-checks far past the test's end: the database is read again only when a word comes."""
    monkeypatch.setattr(api_base, "WAIT_RECHECK_SECONDS", 600.0)
    monkeypatch.setattr(notices, "PAGE_RECHECK_SECONDS", 600.0)
    monkeypatch.setattr("plumbing.live.LONG_POLL_SECONDS", float(DEADLINE))
    monkeypatch.setattr(notices, "_down_until", 0.0)
    monkeypatch.setattr(notices, "PREFIX", CHANNELS)


@pytest.fixture
def waits(monkeypatch) -> Waits:
    record = Waits()
    wait_for = notices.wait_for
    get_message = redis.client.PubSub.get_message

    def watched_wait_for(channels, *, changed, **kwargs):
        with record.lock:
            record.waits.append([])

        def checked() -> bool:
            found = changed()
            record.record(("check", found))
            return found

        return wait_for(channels, changed=checked, **kwargs)

    def watched_get_message(self, ignore_subscribe_messages=False, timeout=0.0):
        message = get_message(self, ignore_subscribe_messages=ignore_subscribe_messages, timeout=timeout)
        if message is not None:
            record.record(("word", message["channel"].decode()))
        elif timeout:
            record.record(("listened",))
        return message

    def nap(seconds: float) -> None:
        record.record(("nap", seconds))
        time.sleep(seconds)

    monkeypatch.setattr(notices, "wait_for", watched_wait_for)
    monkeypatch.setattr(redis.client.PubSub, "get_message", watched_get_message)
    monkeypatch.setattr(notices, "time", types.SimpleNamespace(monotonic=time.monotonic, sleep=nap))
    return record


def answered_by_a_word(events: list[tuple], channel: str) -> None:
    """The check that found the change came straight after a word on `channel`, and it was the first."""
    assert ("check", True) in events, events
    answer = events.index(("check", True))
    assert answer > 0 and events[answer - 1] == ("word", channel), events


def until_waited_on(waits: Waits, number: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while not waits.started(number) and time.monotonic() < deadline:  # past it, go on: the test then fails
        time.sleep(0.02)


def worker(operation_id: int, waits: Waits, *, start_at: int, succeed_at: int) -> threading.Thread:
    """A worker, in a thread: it starts the operation once the `start_at`-th wait listens, and succeeds
    it once the `succeed_at`-th does, so that each word comes while someone waits for it."""

    def work():
        try:
            until_waited_on(waits, start_at)
            task_id = Operation.objects.get(pk=operation_id).celery_task_id or "thread"
            operation = operation_start(operation_id=operation_id, task_id=task_id)
            until_waited_on(waits, succeed_at)
            operation_succeed(operation=operation, message="Done by the thread.", result={"id": "abc"})
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_a_wait_request_answers_on_the_word_that_the_worker_finished(waits):
    api = make_team("Waiters", api=True).api("member")
    holder = {}

    def post():
        try:
            holder["response"] = api.post("/api/v1/networks/?wait=30", {"name": "awaited"})
        finally:
            connection.close()

    request = threading.Thread(target=post)
    request.start()
    deadline = time.monotonic() + DEADLINE
    operation = None
    while operation is None and time.monotonic() < deadline:  # the POST's operation, once committed
        operation = Operation.objects.filter(target="awaited").first()
        time.sleep(0.05)
    assert operation is not None
    worker(operation.pk, waits, start_at=1, succeed_at=1).join(DEADLINE)
    request.join(DEADLINE)

    response = holder["response"]
    assert response.status_code == 200, response.content[:500]
    assert response.json()["status"] == "succeeded" and response.json()["result"] == {"id": "abc"}
    [events] = waits.waits
    answered_by_a_word(events, f"{CHANNELS}operation:{operation.pk}")


def long_poll(client, path: str, page: str):
    """Ask for a page's live part with the version the page shows, as htmx does."""
    version = re.search(r'"X-Seen-Version": "(\w+)"', page).group(1)
    return client.get(path, headers={"HX-Request": "true", SEEN: version})


def test_the_operation_page_and_the_network_page_answer_on_the_workers_words(client, waits):
    team = make_team()
    network = make_network(team, "fresh", status=Network.Status.CREATING)
    client.force_login(team.viewer)

    operation = make_operation(team, target="fresh", network=network, sent=None)
    first = worker(operation.pk, waits, start_at=1, succeed_at=2)
    page = client.get(f"/operations/{operation.pk}/").content.decode()
    response = long_poll(client, f"/operations/{operation.pk}/progress/", page)
    assert response.status_code == 200 and b"Running." in response.content and b"Succeeded" not in response.content
    answered_by_a_word(waits.waits[0], f"{CHANNELS}operation:{operation.pk}")

    page = client.get(f"/operations/{operation.pk}/").content.decode()
    response = long_poll(client, f"/operations/{operation.pk}/progress/", page)
    assert response.status_code == 200 and b"Succeeded" in response.content
    answered_by_a_word(waits.waits[1], f"{CHANNELS}operation:{operation.pk}")
    first.join(DEADLINE)

    second = make_operation(team, target="fresh", network=network, sent=None)
    page = client.get(f"/networks/{network.pk}/").content.decode()
    third = worker(second.pk, waits, start_at=3, succeed_at=3)
    response = long_poll(client, f"/networks/{network.pk}/status/", page)
    assert response.status_code == 200  # the status line with the operation's next step
    shown = re.search(r'"X-Seen-Version": "(\w+)"', page).group(1)
    assert re.search(r'"X-Seen-Version": "(\w+)"', response.content.decode()).group(1) != shown
    answered_by_a_word(waits.waits[2], f"{CHANNELS}network:{network.pk}")
    third.join(DEADLINE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_redis_down_a_wait_request_polls_the_database_in_short_naps(monkeypatch, waits, caplog):
    caplog.set_level(logging.INFO, logger="networks.services.notices")
    monkeypatch.setattr(api_base, "WAIT_POLL_SECONDS", 0.2)
    team = make_team()
    operation = make_operation(team, target="lonely", sent=None)
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0"):  # nobody listens there
        thread = worker(operation.pk, waits, start_at=1, succeed_at=1)
        answered = api_base.operation_wait_until_finished(operation, DEADLINE)
        thread.join(DEADLINE)

    assert answered.status == Operation.Status.SUCCEEDED
    [events] = waits.waits
    assert {kind for kind, *_ in events} == {"check", "nap"}, events  # it never listened: nothing to listen on
    assert events[0] == ("check", False) and events[-1] == ("check", True), events
    naps = [event[1] for event in events if event[0] == "nap"]
    assert naps and max(naps) <= 0.2, events  # it asked the database again after each short nap
    assert "Redis does not answer" in caplog.text


def test_a_long_poll_on_something_removed_meanwhile_answers_404_not_500(rf):
    """A page left open on an object that is then deleted (a cluster deregistered) gets a 404."""
    request = rf.get("/containers/1/status/", headers={SEEN: "v1"})

    def gone():
        raise ObjectDoesNotExist

    with pytest.raises(Http404):
        hold_until_changed(request, gone, lambda changed, seconds: changed())


@pytest.fixture
def listener(settings):
    """A subscriber on this test's channels, on the same Redis the words go to."""
    subscription = redis.Redis.from_url(settings.CELERY_BROKER_URL).pubsub(ignore_subscribe_messages=True)
    subscription.psubscribe(f"{CHANNELS}*")
    assert subscription.get_message(timeout=5) is None  # the confirmation, left out

    def heard() -> list[str]:
        words = []
        while (word := subscription.get_message(timeout=1)) is not None:
            words.append(word["channel"].decode())
        return words

    yield heard
    subscription.close()


def test_words_go_together_on_a_connection_of_the_pool_not_through_a_pipeline(monkeypatch, listener):
    def pipelined(self, *args, **kwargs):
        raise AssertionError("published through a pipeline")

    monkeypatch.setattr(redis.client.Pipeline, "execute", pipelined)
    channels = [notices.channel("operation", 1), notices.channel("network", 2)]
    for _ in range(3):
        notices.publish(channels)
    assert listener() == channels * 3
    assert notices._down_until == 0.0


def test_a_connection_redis_ended_while_idle_is_opened_anew_and_the_word_goes(listener, settings):
    notices.publish([notices.channel("operation", 1)])
    pool = notices._client().connection_pool
    publisher = pool.get_connection()  # the one the word went on, free again
    host, port = publisher._sock.getsockname()[:2]
    pool.release(publisher)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).client_kill(f"{host}:{port}")
    time.sleep(0.2)  # the end reaches the idle connection

    notices.publish([notices.channel("operation", 2)])
    assert listener() == [notices.channel("operation", 1), notices.channel("operation", 2)]
    assert notices._down_until == 0.0  # nothing was taken for Redis being down
