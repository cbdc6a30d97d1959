"""A task sent (`queue.send`): its message carries the arguments' text Celery would have written, and Celery is
asked to declare its queue with the process's first send of the task only. Sent over kombu's in-memory
transport (a producer given to `send`, as a batch gives its own): the suite's live worker takes from the
tests' Redis, and must neither take these messages nor run them."""

import pytest
from celery.utils.saferepr import saferepr
from kombu import Connection

from networks.services import queue


@pytest.fixture
def memory(monkeypatch):
    monkeypatch.setattr(queue, "_declared", set())  # as in a process that has sent nothing yet
    with Connection("memory://") as connection:
        yield connection


def headers_taken(connection, name: str) -> list[dict]:
    """The headers of the messages waiting on queue `name` of the in-memory transport, oldest first."""
    taken = []
    with connection.SimpleQueue(name) as simple:
        while simple.qsize():
            message = simple.get(timeout=1)
            message.ack()
            taken.append(message.headers)
    return taken


def test_a_message_carries_its_arguments_as_celery_writes_them(memory):
    producer = memory.Producer()
    for args in ((7,), ([3, 4, 5],), (2, "0123456789abcdef", True)):
        queue.send(queue.RUN_OPERATION, *args, task_id="t-args", producer=producer)
        [headers] = headers_taken(memory, "celery")
        assert (headers["task"], headers["id"]) == (queue.RUN_OPERATION, "t-args")
        assert headers["argsrepr"] == saferepr(args) and headers["kwargsrepr"] == saferepr({})


def test_a_queue_is_declared_with_the_first_send_of_its_task_only(memory, monkeypatch):
    """What Celery is told to declare (None: the message's queue, as its default), each message still sent."""
    real, asked = queue.current_app.send_task, []

    def send_task(name, **options):
        asked.append((name, options["declare"]))
        return real(name, **options)

    monkeypatch.setattr(queue.current_app, "send_task", send_task)
    producer = memory.Producer()
    queue.send(queue.FOLLOW_NETWORK, 1, "abc", producer=producer)
    queue.send(queue.FOLLOW_NETWORK, 1, "def", producer=producer)
    queue.send(queue.RUN_OPERATION, 5, producer=producer)

    assert asked == [(queue.FOLLOW_NETWORK, None), (queue.FOLLOW_NETWORK, []), (queue.RUN_OPERATION, None)]
    assert [headers["argsrepr"] for headers in headers_taken(memory, "background")] == ["(1, 'abc')", "(1, 'def')"]
    assert [headers["argsrepr"] for headers in headers_taken(memory, "celery")] == ["(5,)"]
