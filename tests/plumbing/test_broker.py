"""The broker's transport (plumbing/broker.py) and its unanswered writes (plumbing/unanswered.py), on the
tests' own Redis database: a message taken is recorded as unacknowledged at once, its ack removes the
record, what a worker closes with goes back to its queue, and a channel keeps one client."""

import uuid

import pytest
import redis
from django.conf import settings
from kombu import Connection, Consumer, Queue

from plumbing.broker import Transport
from plumbing.unanswered import Unanswered
from portal.celery import app


@pytest.fixture
def client(broker_redis):
    return broker_redis


def test_writes_are_made_at_once_and_their_answers_read_later(client):
    writes = Unanswered(client.connection_pool)
    key = f"test-{uuid.uuid4().hex}"
    writes.send(("SET", key, "one"), ("EXPIRE", key, 60))
    assert writes.pending == 2
    assert client.get(key) == b"one"  # written before any answer was read
    writes.send(("SET", key, "two"))
    assert writes.pending == 1  # the first two answers were read first
    writes.collect()
    assert writes.pending == 0
    assert client.get(key) == b"two"
    writes.close()


def test_an_error_answered_is_raised_by_the_next_write_which_is_still_made(client):
    writes = Unanswered(client.connection_pool)
    key = f"test-{uuid.uuid4().hex}"
    client.set(key, "text")
    writes.send(("SADD", key, "member"))  # the wrong type: Redis answers an error
    with pytest.raises(redis.ResponseError):
        writes.send(("SET", f"{key}-next", "made"))
    assert client.get(f"{key}-next") == b"made"
    writes.collect()  # nothing owed is an error any more
    writes.close()


def test_the_portal_sends_its_tasks_through_this_transport():
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)


def test_a_channel_keeps_one_client_for_its_commands(client):
    with Connection(settings.CELERY_BROKER_URL, transport=Transport) as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second


def test_a_message_taken_is_recorded_until_acked_and_goes_back_when_the_channel_closes(client):
    queue = Queue(f"test-{uuid.uuid4().hex}")
    taken = []
    with Connection(settings.CELERY_BROKER_URL, transport=Transport) as connection:
        with connection.Producer() as producer:
            for number in range(3):
                producer.publish({"number": number}, routing_key=queue.name, declare=[queue])
        channel = connection.channel()
        with Consumer(channel, [queue], callbacks=[lambda body, message: taken.append(message)], no_ack=False):
            for _ in range(3):
                connection.drain_events(timeout=5)
        assert [message.payload for message in taken] == [{"number": 0}, {"number": 1}, {"number": 2}]
        assert client.hlen("unacked") == 3 and client.zcard("unacked_index") == 3
        taken[0].ack()
        taken[1].ack()
        channel.collect()
        assert client.hlen("unacked") == 1 and client.zcard("unacked_index") == 1
        channel.close()  # a worker stopping: what it took and did not ack goes back to the queue
    assert client.hlen("unacked") == 0
    assert client.llen(queue.name) == 1
