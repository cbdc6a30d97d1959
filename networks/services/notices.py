"""Word that something changed, from whoever changed it (a worker, mostly) to the web requests waiting
to tell: `?wait=` and the pages' long polls.

Redis pub/sub on the task queue's Redis (settings.CELERY_BROKER_URL): a change is announced on a
channel per operation, network and container once its transaction commits; a waiting request
subscribes to the channels of what it shows. A word carries no data: the waiter reads the database
again, so a word lost or sent twice does no harm. Redis is a help, never a need: when it does not
answer, announcing does nothing and waiting polls the database, as before there were words.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

import redis
from django.conf import settings
from django.db import connection, transaction
from redis.backoff import NoBackoff
from redis.retry import Retry

from plumbing.turns import turn_given_back

logger = logging.getLogger(__name__)

PREFIX = "overlay-portal:changed:"
# A Redis that does not answer is left alone this long before it is asked again, so that a waiter or
# a worker never stalls on each call while it is down.
DOWN_PAUSE_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 0.5

_lock = threading.Lock()
_clients: dict[str, redis.Redis | None] = {}
_down_until = 0.0


def channel(kind: str, pk: int) -> str:
    return f"{PREFIX}{kind}:{pk}"


def operation_channels(operation) -> list[str]:
    """An operation's change is news for its own page and for its network's and container's."""
    channels = [channel("operation", operation.pk)]
    if operation.network_id:
        channels.append(channel("network", operation.network_id))
    if operation.container_id:
        channels.append(channel("container", operation.container_id))
    return channels


def _client() -> redis.Redis | None:
    """The Redis client of this process, or None while Redis is taken for down."""
    if time.monotonic() < _down_until:
        return None
    url = settings.CELERY_BROKER_URL
    with _lock:
        if url not in _clients:
            try:
                _clients[url] = redis.Redis.from_url(
                    url,
                    socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    socket_timeout=CONNECT_TIMEOUT_SECONDS,
                    retry=Retry(NoBackoff(), 0),
                    health_check_interval=0,
                )
            except ValueError:  # a broker URL redis-py cannot open (sentinel, another broker): polling only
                logger.warning("no words over %s: waiting requests poll the database", url.split("@")[-1])
                _clients[url] = None
        return _clients[url]


def _went_down(error: Exception) -> None:
    global _down_until
    _down_until = time.monotonic() + DOWN_PAUSE_SECONDS
    logger.info("Redis does not answer (%s): waiting requests poll the database for %.0f s", error, DOWN_PAUSE_SECONDS)


def publish(channels: Iterable[str]) -> None:
    """Say now that what these channels name changed (best effort: nobody may be listening, Redis may be down).

    The PUBLISHes are packed together and sent on a connection of the client's pool, taken and given back
    (the pool opens anew one the server closed while it sat idle, and none a forked child's parent holds),
    not through a pipeline: redis-py 8.1's pipeline (its retry wrapper, the observability recorder, its
    command stack) cost ~135 µs of CPU for a run's two words, this ~100 µs, and a run publishes twice. A
    connection that failed is dropped, and Redis is taken for down."""
    channels = list(channels)
    client = _client()
    if client is None or not channels:
        return
    pool = client.connection_pool
    connection = None
    try:
        connection = pool.get_connection()
        connection.send_packed_command(connection.pack_commands([("PUBLISH", name, b"1") for name in channels]))
        for _ in channels:
            connection.read_response()
    except (redis.RedisError, OSError) as error:
        if connection is not None:
            connection.disconnect()
        _went_down(error)
    finally:
        if connection is not None:
            pool.release(connection)


def announce(channels: Iterable[str]) -> None:
    """Say that these changed once the surrounding transaction commits, when a waiter reading the
    database finds the change."""
    channels = list(channels)
    transaction.on_commit(lambda: publish(channels), robust=True)


def _pause_database() -> None:
    """A waiting request gives its database connection back; the next check opens one again. Inside a
    transaction (a test's, or a caller's) the connection is kept: it holds what the caller sees."""
    if not connection.in_atomic_block:
        connection.close()


def wait_for(
    channels: Iterable[str], *, changed: Callable[[], bool], timeout: float, recheck: float, poll: float
) -> bool:
    """Block until `changed()` holds (True) or `timeout` seconds pass (False).

    `changed` reads the database. It is asked once subscribed (a word sent before that is not
    missed), after each word on the channels, and every `recheck` seconds (changes nobody announces:
    the events follower's). While Redis does not answer it is asked every `poll` seconds instead.
    """
    deadline = time.monotonic() + timeout
    client = _client()
    subscription = None
    if client is not None:
        try:
            subscription = client.pubsub(ignore_subscribe_messages=True)
            subscription.subscribe(*channels)
        except (redis.RedisError, OSError) as error:
            _went_down(error)
            subscription = None
    try:
        while True:
            if changed():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _pause_database()
            if subscription is None:
                with turn_given_back():
                    time.sleep(min(poll, left))
                continue
            try:
                # Any word, or none within `recheck`: either way the database is asked again. Words
                # that came together are read at once, so one check answers them all.
                with turn_given_back():
                    word = subscription.get_message(timeout=min(recheck, left))
                if word is not None:
                    while subscription.get_message(timeout=0) is not None:
                        pass
            except (redis.RedisError, OSError) as error:
                _went_down(error)
                subscription = None
    finally:
        if subscription is not None:
            try:
                subscription.close()
            except (redis.RedisError, OSError):
                pass


# The pages' long polls (plumbing.live.hold_until_changed) read the database again every
# PAGE_RECHECK_SECONDS for changes nobody announces, and every PAGE_POLL_SECONDS while Redis is down.
PAGE_RECHECK_SECONDS = 5.0
PAGE_POLL_SECONDS = 1.0


def page_waiter(kind: str, pk: int) -> Callable[[Callable[[], bool], float], bool]:
    """`wait(changed, seconds)` for a page's long poll on one operation, network or container."""
    channels = [channel(kind, pk)]
    return lambda changed, seconds: wait_for(
        channels, changed=changed, timeout=seconds, recheck=PAGE_RECHECK_SECONDS, poll=PAGE_POLL_SECONDS
    )
