"""A task sent (`queue.send`) on the tests' own Redis database: its message lands on its queue's list with the
arguments' text Celery would have written, and Celery is asked to declare its queue with the process's first
send of the task only."""

import json

import pytest
import redis
from celery.utils.saferepr import saferepr
from django.conf import settings

from networks.services import queue


@pytest.fixture
def broker(monkeypatch):
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    monkeypatch.setattr(queue, "_declared", set())  # as in a process that has sent nothing yet
    yield client
    client.flushdb()


def taken(broker, name="celery") -> dict:
    raw = broker.rpop(name)
    assert raw is not None, f"no message on {name}"
    return json.loads(raw)


def test_a_message_carries_its_arguments_as_celery_writes_them(broker):
    for args in ((7,), ([3, 4, 5],), (2, "0123456789abcdef", True)):
        queue.send(queue.RUN_OPERATION, *args, task_id="t-args")
        headers = taken(broker)["headers"]
        assert (headers["task"], headers["id"]) == (queue.RUN_OPERATION, "t-args")
        assert headers["argsrepr"] == saferepr(args) and headers["kwargsrepr"] == saferepr({})


def test_a_queue_is_declared_with_the_first_send_of_its_task_only(broker, monkeypatch):
    """What Celery is told to declare (None: the message's queue, as its default), each message still sent."""
    real, asked = queue.current_app.send_task, []

    def send_task(name, **options):
        asked.append((name, options["declare"]))
        return real(name, **options)

    monkeypatch.setattr(queue.current_app, "send_task", send_task)
    queue.send(queue.FOLLOW_NETWORK, 1, "abc")
    queue.send(queue.FOLLOW_NETWORK, 1, "def")
    queue.send(queue.RUN_OPERATION, 5)

    assert asked == [(queue.FOLLOW_NETWORK, None), (queue.FOLLOW_NETWORK, []), (queue.RUN_OPERATION, None)]
    assert [json.loads(raw)["headers"]["argsrepr"] for raw in broker.lrange("background", 0, -1)] == [
        "(1, 'def')",
        "(1, 'abc')",
    ]
    assert taken(broker)["headers"]["argsrepr"] == "(5,)"
