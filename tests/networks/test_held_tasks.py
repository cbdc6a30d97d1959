"""The worker's record of the tasks it holds (networks/held_tasks.py), on the tests' own Redis: a message
that arrives is named at once, beside what runs or is prefetched and what the last look found in the timer;
a countdown's (in the timer) stays named until a look; what ended is named no more."""

import threading
import types
import uuid

import pytest
import redis
from celery.worker import state as worker_state
from celery.worker.request import Request as WorkerRequest
from kombu.asynchronous.timer import Timer

from networks.held_tasks import HeldTaskIds
from networks.services import queue


@pytest.fixture
def client(broker_redis):
    return broker_redis


@pytest.fixture
def step(client):
    consumer = types.SimpleNamespace(timer=Timer(), hostname=f"worker-{uuid.uuid4().hex[:6]}@tests")
    step = HeldTaskIds(consumer)
    step.start(consumer)
    yield step
    step.stop(consumer)
    consumer.timer.stop()


class _Request:
    def __init__(self, task_id: str, eta: str | None = None):
        self.id, self.eta, self.name = task_id, eta, "networks.run_operation"


def test_a_message_is_named_when_it_arrives_and_what_ended_is_not(step, client, monkeypatch):
    running, arrived = _Request("running"), _Request("arrived")
    monkeypatch.setattr(worker_state, "active_requests", {running})
    monkeypatch.setattr(worker_state, "reserved_requests", set())
    step.publish()  # a look: what runs now
    step.received(request=arrived)  # counted as reserved only after this signal
    step.writes.collect()
    assert queue.held_task_ids() == {"running", "arrived"}

    monkeypatch.setattr(worker_state, "active_requests", set())  # the first ended, the second is prefetched
    monkeypatch.setattr(worker_state, "reserved_requests", {arrived})
    step.received(request=_Request("counting-down", eta="2030-01-01T00:00:00+00:00"))  # to the timer
    step.writes.collect()
    assert queue.held_task_ids() == {"arrived", "counting-down"}
    monkeypatch.setattr(worker_state, "reserved_requests", set())  # the second ended too
    step.received(request=_Request("quick"))  # prefetched, ended before the next message
    step.received(request=None)
    step.writes.collect()
    assert queue.held_task_ids() == {"counting-down"}, "in the timer: named until a look reads the timer"
    step.publish()
    step.writes.collect()
    assert queue.held_task_ids() == set()


def test_a_look_names_a_countdown_waiting_in_the_timer(step, client, monkeypatch):
    monkeypatch.setattr(worker_state, "active_requests", set())
    monkeypatch.setattr(worker_state, "reserved_requests", set())
    waiting = WorkerRequest.__new__(WorkerRequest)
    waiting.id = "later"
    step.consumer.timer.call_after(120, lambda request: None, (waiting,))
    step.publish()
    step.received(request=_Request("next"))
    step.writes.collect()
    assert queue.held_task_ids() == {"later", "next"}


def test_a_worker_runs_while_its_record_lives_and_nothing_is_asked_of_none(step, client, monkeypatch):
    step.writes.collect()
    assert queue.workers_running() is True
    client.delete(queue.HELD_KEY_PREFIX + step.consumer.hostname)  # as its expiry does, once the worker stopped
    assert queue.workers_running() is False
    sent = []
    monkeypatch.setattr(queue.current_app, "send_task", lambda *args, **kwargs: sent.append(args))
    with pytest.raises(queue.NoWorker):
        queue.ask(queue.NETWORK_INSPECT, 1, timeout=30)
    assert sent == []
    assert queue.worker_failure_sentence(queue.NoWorker()).startswith("The portal's worker is not running")


def test_a_question_waits_a_moment_for_a_record_lost_with_the_brokers_data(step, client, monkeypatch):
    """The broker's Redis restarted or emptied: a running worker writes its record again at its next look
    (every HELD_REFRESH_SECONDS), and a question asked meanwhile goes to it."""
    step.writes.collect()
    client.flushdb()
    threading.Timer(0.5, step.publish).start()  # the worker's next look

    class Asked:
        def get(self, timeout):
            return "answered"

    monkeypatch.setattr(queue.current_app, "send_task", lambda name, args: Asked())
    assert queue.ask(queue.NETWORK_INSPECT, 1, timeout=30) == "answered"


def test_a_question_is_not_sent_when_the_task_queue_does_not_answer(monkeypatch):
    nowhere = redis.Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(queue, "broker_redis", lambda: nowhere)
    sent = []
    monkeypatch.setattr(queue.current_app, "send_task", lambda *args, **kwargs: sent.append(args))
    with pytest.raises(queue.BrokerDown) as refused:
        queue.ask(queue.NETWORK_INSPECT, 1, timeout=30)
    assert sent == []
    assert queue.worker_failure_sentence(refused.value) == (
        "The portal cannot reach its task queue right now, so no worker can ask the cluster. Try again later."
    )
