"""A worker killed with -9 while a receiver holds its delivery loses nothing: the delivery stays pending,
the endpoint's lease runs out, and the next worker to connect sends it again under the same webhook-id
(the receiver drops the duplicate by it), before the deliveries that came after it."""

from __future__ import annotations

import pytest
from django.db import transaction

from portal.actors import Actor
from portal.changes import change_record
from tests.factories import make_network
from tests.support import wait_until
from webhooks.models import WebhookDelivery
from webhooks.services.endpoints import endpoint_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_delivery_loses_nothing(team, webhook_receiver, celery_worker_process):
    """The tests' one worker on this Redis is killed and started again (the fixture's object stays the
    session's worker), so the worker killed is surely the one sending."""
    endpoint, secret = endpoint_create(
        actor=Actor.system("tests"), tenant=team.tenant, url=webhook_receiver.url, events=["network.*"]
    )
    webhook_receiver.secrets.append(secret)
    webhook_receiver.held.set()  # the receiver takes the first delivery and does not answer
    for name in ("foxtrot", "golf"):
        with transaction.atomic():
            network = make_network(team, name)
            change_record(actor=Actor.system("tests"), action="network.create", tenant=team.tenant, obj=network)
    assert webhook_receiver.holding.wait(timeout=60), "no delivery reached the receiver"
    celery_worker_process.kill()
    webhook_receiver.held.clear()
    sent = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk"))
    assert all(d.status == WebhookDelivery.Status.PENDING for d in sent)  # nothing marked sent by a dead worker

    celery_worker_process.start()
    wait_until(
        lambda: WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.DELIVERED).count() == 2,
        timeout=90,
    )
    ids = [r.message_id for r in webhook_receiver.received]
    # The held one was answered to a dead worker, then sent again: at least once, same id, order kept.
    assert ids == [sent[0].message_id, sent[0].message_id, sent[1].message_id]
    assert all(r.verified for r in webhook_receiver.received)
