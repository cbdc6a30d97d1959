"""Webhooks across a Redis restart: the deliveries live in the database, not in the task queue. A change
recorded while the worker is away, its word to a worker lost when Redis restarts without its data, is
still delivered: the worker's sweep as it connects finds it."""

from __future__ import annotations

import pytest
from django.db import transaction

from portal.actors import Actor
from portal.changes import change_record
from tests.resilience.processes import BrokerWorker, OwnRedis
from tests.support import wait_until
from webhooks.models import WebhookDelivery
from webhooks.services import outbox
from webhooks.services.endpoints import endpoint_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_redis_restart_loses_no_delivery(team, webhook_receiver, tmp_path, monkeypatch):
    own_redis = OwnRedis(tmp_path)
    own_redis.start()
    worker = BrokerWorker(tmp_path, own_redis.url())
    try:
        endpoint, secret = endpoint_create(
            actor=Actor.system("tests"), tenant=team.tenant, url=webhook_receiver.url, events=["network.*"]
        )
        webhook_receiver.secrets.append(secret)
        # The word to a worker is lost (as a restart without persistence loses it), not sent to the
        # tests' other Redis, where the session's worker could deliver it first.
        monkeypatch.setattr(outbox.queue, "send_on_commit", lambda *args, **kwargs: None)
        with transaction.atomic():
            change_record(actor=Actor.system("tests"), action="network.create", tenant=team.tenant, object_repr="x")
        own_redis.stop()
        own_redis.start()  # no persistence: whatever the queue held is gone
        worker.start()
        wait_until(
            lambda: WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.DELIVERED).exists(),
            timeout=90,
        )
        assert "webhooks.relay" in worker.log_path.read_text()  # this worker's sweep sent it
        [got] = webhook_receiver.delivered()
        assert got.verified and got.event_type == "network.create"
    finally:
        worker.stop()
        own_redis.stop()
