"""The task queue, seen from the services: work is sent by task name, never by importing the tasks.

`networks.tasks` imports the services to run them; the services only name the tasks here. This
module is the one place that knows those names and talks to the broker.
"""

from __future__ import annotations

import logging

from celery import current_app
from celery.exceptions import TimeoutError as WorkerTimeout
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerDown

from networks.engine import EngineError
from plumbing.errors import USER_ERRORS, ServiceError

logger = logging.getLogger(__name__)

RUN_OPERATION = "networks.run_operation"
GIVE_UP_OPERATION = "networks.give_up_operation"
NETWORK_INSPECT = "networks.network_inspect"
CLUSTER_REFRESH_HEALTH = "networks.cluster_refresh_health"
CONTAINER_DIAGNOSE = "networks.container_diagnose"
CLUSTER_IMAGES = "networks.cluster_images"
CLUSTER_CONNECT = "networks.cluster_connect"
CLUSTER_TEST = "networks.cluster_test"
FOLLOW_CONTAINER = "networks.follow_container"
FOLLOW_NETWORK = "networks.follow_network"


def send(name: str, *args, task_id: str | None = None) -> None:
    """Send a task now, nobody waiting for its result (whose store then need not answer either)."""
    current_app.send_task(name, args=args, task_id=task_id, ignore_result=True)


def send_on_commit(name: str, *args, task_id: str | None = None, robust: bool = False) -> None:
    """Send a task once the surrounding transaction commits, so the worker finds the rows it needs.

    `robust`: a task queue that does not answer is logged, not raised (for sends nobody waits on).
    """
    transaction.on_commit(lambda: send(name, *args, task_id=task_id), robust=robust)


def ask(name: str, *args, timeout: float):
    """Have a worker answer a question (inspect, health, diagnostics) and wait for its answer."""
    return current_app.send_task(name, args=args).get(timeout=timeout)


def worker_failure_sentence(error: BaseException) -> str:
    """What to tell a user when a question sent to a worker (inspect, diagnostics) got no usable answer."""
    if isinstance(error, USER_ERRORS):
        return error.message
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
