"""The task queue, seen from the services: work is sent by task name, never by importing the tasks.

`networks.tasks` imports the services to run them; the services only name the tasks here. This
module is the one place that knows those names and talks to the broker.
"""

from __future__ import annotations

import functools
import json
import logging
import time

import redis
from celery import current_app
from celery.exceptions import TimeoutError as WorkerTimeout
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerDown

from networks.engine import EngineError
from plumbing.errors import USER_ERRORS, ServiceError
from plumbing.turns import turn_given_back
from plumbing.unanswered import Unanswered

logger = logging.getLogger(__name__)

RUN_OPERATION = "networks.run_operation"
RUN_OPERATIONS = "networks.run_operations"  # several operations of one batch, run side by side
GIVE_UP_OPERATION = "networks.give_up_operation"
NETWORK_INSPECT = "networks.network_inspect"
CLUSTER_REFRESH_HEALTH = "networks.cluster_refresh_health"
CONTAINER_DIAGNOSE = "networks.container_diagnose"
CONTAINER_LOGS = "networks.container_logs"
CLUSTER_IMAGES = "networks.cluster_images"
CLUSTER_CONNECT = "networks.cluster_connect"
CLUSTER_TEST = "networks.cluster_test"
FOLLOW_CONTAINER = "networks.follow_container"
FOLLOW_NETWORK = "networks.follow_network"

# Each worker keeps the ids of the tasks it holds (running, prefetched, or waiting for a retry's
# countdown) in the broker's Redis under a key of its own that lives HELD_TTL_SECONDS unless refreshed:
# a live worker refreshes it every HELD_REFRESH_SECONDS and at once when a message reaches it, so a dead
# worker's ids vanish within HELD_TTL_SECONDS (under services/operation_recovery.RECOVERY_GRACE_SECONDS).
HELD_KEY_PREFIX = "overlay-portal:held-task-ids:"
HELD_WORKERS_KEY = "overlay-portal:held-task-workers"  # the names of the workers that keep such a key
HELD_REFRESH_SECONDS = 2.0
HELD_TTL_SECONDS = 10


class Sent:
    """What `send` makes of a sent message: its id, nothing else. Celery's own AsyncResult would open the
    result store's client, once per thread: for each of a web process's 32 threads an entry-point scan of
    every installed package and a Redis pool (bench/e2e.py measured about 15 ms of CPU on each new thread)."""

    def __init__(self, task_id: str):
        self.id = task_id


# The task names this process has sent (each is routed to one queue): its queue declared with the first send.
_declared: set[str] = set()


def send(name: str, *args, task_id: str | None = None, countdown: float | None = None, producer=None) -> None:
    """Send a task now (to run in `countdown` seconds), nobody waiting for its result (whose store then
    need not answer either, nor be opened). `producer`: one from `producer()`, to send several messages over it.

    Celery declares the message's queue on every send: kombu copies the queue and its exchange and binds
    them to the channel, only to find the queue declared already. Once per task name and process is enough
    (a declared queue stays: Celery's are durable, and Redis's are the lists the messages are pushed on).
    The arguments' text for the worker's log (`argsrepr`) is their repr: ids, names and lists of them,
    which Celery's general pretty-printer (`saferepr`) writes alike, only slower. The two cost a send about a
    fifth of its CPU (0.34 -> 0.26 ms a send, 3,000 sends a turn, 6 turns; issue 28)."""
    current_app.send_task(
        name,
        args=args,
        task_id=task_id,
        ignore_result=True,
        countdown=countdown,
        producer=producer,
        result_cls=Sent,
        add_to_parent=False,
        declare=[] if name in _declared else None,
        argsrepr=repr(args),
        kwargsrepr="{}",
    )
    _declared.add(name)


def producer():
    """A producer of the broker's connection pool, held for several sends (`with producer() as p:`)."""
    return current_app.producer_or_acquire()


def send_on_commit(name: str, *args, task_id: str | None = None, robust: bool = False) -> None:
    """Send a task once the surrounding transaction commits, so the worker finds the rows it needs.

    `robust`: a task queue that does not answer is logged, not raised (for sends nobody waits on).
    """
    transaction.on_commit(lambda: send(name, *args, task_id=task_id), robust=robust)


class NoWorker(WorkerTimeout):
    """No worker is running (none has recorded what it holds for HELD_TTL_SECONDS): a question would only wait
    out its timeout. A timeout of its own kind, so whoever handles a worker that does not answer handles it."""


# How long a question waits for a worker's record when none is there: a running worker writes it again within
# HELD_REFRESH_SECONDS of its loss (the broker's Redis restarted or emptied), so none by then means none runs.
NO_WORKER_SECONDS = HELD_REFRESH_SECONDS + 1.0


def ask(name: str, *args, timeout: float):
    """Have a worker answer a question (inspect, health, diagnostics) and wait for its answer; NoWorker within
    NO_WORKER_SECONDS when no worker runs (`workers_running`), not after the whole timeout. A request gives its
    turn back while it waits (plumbing/turns.py): it computes nothing meanwhile, and a cluster that is slow to
    answer would otherwise hold one of its web process's few turns for the whole timeout. BrokerDown when the
    task queue does not answer."""
    if workers_running() is False:
        with turn_given_back():
            if not _worker_seen_within(min(timeout, NO_WORKER_SECONDS)):
                raise NoWorker(f"no worker runs to answer {name}")
    asked = current_app.send_task(name, args=args)
    with turn_given_back():
        return asked.get(timeout=timeout)


def worker_failure_sentence(error: BaseException) -> str:
    """What to tell a user when a question sent to a worker (inspect, diagnostics) got no usable answer."""
    if isinstance(error, USER_ERRORS):
        return error.message
    if isinstance(error, NoWorker):
        return (
            "The portal's worker is not running, so nothing can ask the cluster. An admin should start it "
            "(make run starts one; in production, its service: overlay-portal-worker)."
        )
    if isinstance(error, WorkerTimeout):
        return "The portal's worker did not answer in time. The cluster may be busy: try again in a moment."
    if isinstance(error, BrokerDown):
        return "The portal cannot reach its task queue right now, so no worker can ask the cluster. Try again later."
    if isinstance(error, EngineError):
        return str(error)
    return "The cluster could not be asked just now. Try again; if it keeps failing, an admin can read the worker log."


def worker_answer(question):
    """What `question()` (a call that asks a worker) answered, or a refusal (503) with a sentence when no
    usable answer came; a service's own refusal passes as it is."""
    try:
        return question()
    except USER_ERRORS:
        raise
    except Exception as error:  # the worker's failure, reported by Celery from another process
        logger.warning("a question to the worker failed: %r", error)
        raise ServiceError("worker_unavailable", worker_failure_sentence(error), http_status=503) from error


@functools.lru_cache(maxsize=4)
def _broker_redis(url: str) -> redis.Redis | None:
    """A client of the broker's Redis (one pool per process; redis-py opens new connections after a fork)."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def broker_redis() -> redis.Redis | None:
    """The broker's Redis, or None when the broker is not Redis."""
    return _broker_redis(current_app.conf.broker_url or "")


def held_writes() -> Unanswered | None:
    """Where a worker writes what it holds (`held_publish`): a connection of its own to the broker's Redis;
    None when the broker is not Redis."""
    client = broker_redis()
    return None if client is None else Unanswered(client.connection_pool)


def held_publish(*, writes: Unanswered, worker: str, task_ids) -> None:
    """Record the ids of the tasks `worker` holds now, for HELD_TTL_SECONDS, on `writes` (`held_writes()`):
    written at once, its answer read with the next record's, so a task just taken reaches a pool process
    without waiting for that round trip. Raises redis.RedisError (an earlier record's failure included)."""
    writes.send(
        ("SET", HELD_KEY_PREFIX + worker, json.dumps(sorted(task_ids)), "EX", HELD_TTL_SECONDS),
        ("SADD", HELD_WORKERS_KEY, worker),
    )


def held_task_ids() -> set[str] | None:
    """The ids of the tasks every live worker holds, as they last recorded them; None when the broker is
    not Redis (then who holds what cannot be told). Two reads, no broadcast, no waiting for answers."""
    held = _held_by_worker()
    return None if held is None else {task_id for task_ids in held.values() for task_id in task_ids}


def workers_running() -> bool | None:
    """Whether a worker runs; None when the broker is not Redis. BrokerDown when its Redis does not answer: no
    question could be sent either."""
    try:
        count = workers_counted()
    except redis.RedisError as error:
        raise BrokerDown(f"the task queue's Redis did not answer: {error}") from error
    return None if count is None else count > 0


def workers_counted(client: redis.Redis | None = None) -> int | None:
    """How many workers run (each has recorded what it holds within HELD_TTL_SECONDS), read on `client` (the
    broker's Redis by default); None when the broker is not Redis. Raises redis.RedisError."""
    held = _held_by_worker(client)
    return None if held is None else len(held)


def _worker_seen_within(seconds: float) -> bool:
    """Whether a worker's record appears within `seconds` (looked for every quarter of a second)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.25)
        if workers_running() is not False:
            return True
    return False


def _held_by_worker(client: redis.Redis | None = None) -> dict[str, list[str]] | None:
    """What each live worker holds, by its name; a worker whose record expired (stopped or dead) is forgotten."""
    client = broker_redis() if client is None else client
    if client is None:
        return None
    workers = sorted(name.decode() if isinstance(name, bytes) else name for name in client.smembers(HELD_WORKERS_KEY))
    held: dict[str, list[str]] = {}
    gone = []
    for worker, raw in zip(
        workers, client.mget([HELD_KEY_PREFIX + w for w in workers]) if workers else [], strict=True
    ):
        if raw is None:
            gone.append(worker)  # stopped or dead: its key expired
        else:
            held[worker] = json.loads(raw)
    if gone:
        client.srem(HELD_WORKERS_KEY, *gone)
    return held


def waiting_task_ids() -> set[str] | None:
    """The task ids of the messages waiting in the task queue; None when the broker is not Redis.

    Kombu keeps a Redis queue as a list of JSON messages whose headers carry the task id.
    """
    ids: set[str] = set()
    with current_app.connection_for_read() as connection:
        if connection.transport.driver_type != "redis":
            return None
        client = connection.default_channel.client
        for queue_name in current_app.amqp.queues:
            for raw in client.lrange(queue_name, 0, -1):
                try:
                    ids.add(json.loads(raw)["headers"]["id"])
                except (ValueError, KeyError, TypeError):
                    continue
    return ids
