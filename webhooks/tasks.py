"""Thin Celery tasks of the webhook relay: an endpoint's id in, services/relay.py called."""

from __future__ import annotations

import logging

from celery import bootsteps, shared_task
from kombu.exceptions import OperationalError

from networks.services import queue
from portal.celery import app

from .services.outbox import DELIVER, RELAY
from .services.relay import endpoint_send_due, endpoints_to_send, lease_seconds

logger = logging.getLogger(__name__)


@shared_task(name=DELIVER, ignore_result=True, acks_late=True, soft_time_limit=600, time_limit=660)
def deliver_task(endpoint_id: int) -> None:
    """Send what is due to one endpoint, in order; come back when its next retry is due."""
    wait = endpoint_send_due(endpoint_id)
    if wait is not None:
        try:
            queue.send(DELIVER, endpoint_id, countdown=wait)
        except OperationalError as error:  # the sweep finds it once the queue answers
            logger.warning("webhook endpoint %s: its retry waits for the task queue: %s", endpoint_id, error)


@shared_task(name=RELAY, ignore_result=True, soft_time_limit=60, time_limit=90)
def relay_task() -> list[int]:
    """Beat (and each worker as it connects): hand endpoints whose word was lost to a worker."""
    endpoints = endpoints_to_send()
    for endpoint_id in endpoints:
        queue.send(DELIVER, endpoint_id)
    return endpoints


class RelayOnConnect(bootsteps.StartStopStep):
    """When a worker connects (its start, the queue back after a restart), sweep the outbox once the
    leases of a worker that died have run out, so nothing waits for beat's next round."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, parent):
        relay_task.apply_async(countdown=lease_seconds() + 1)


app.steps["consumer"].add(RelayOnConnect)
