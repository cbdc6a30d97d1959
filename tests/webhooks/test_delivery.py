"""Deliveries through a real worker to a real receiver on 127.0.0.1 that verifies each signature with the
standardwebhooks library: in order per endpoint, retried after the receiver's 500s (each attempt in the
log), paused after failures in a row (a banner's reason and an audit entry), resumed without loss."""

from __future__ import annotations

import pytest
from django.db import transaction

from portal.actors import Actor
from portal.changes import change_record
from portal.models import AuditEntry
from tests.factories import make_network
from tests.support import wait_until
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.endpoints import endpoint_create, endpoint_resume

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def hook(team, receiver, events=("network.*",)):
    endpoint, secret = endpoint_create(actor=Actor.system("tests"), tenant=team.tenant, url=receiver.url, events=events)
    receiver.secrets.append(secret)
    return endpoint


def changes(team, names):
    for name in names:
        with transaction.atomic():
            network = make_network(team, name)
            change_record(actor=Actor.system("tests"), action="network.create", tenant=team.tenant, obj=network)


def test_deliveries_arrive_signed_in_order_after_the_receiver_fails_for_a_while(
    team, webhook_receiver, celery_worker_process
):
    endpoint = hook(team, webhook_receiver)
    webhook_receiver.fail_next = 3
    changes(team, ["alpha", "bravo", "charlie"])
    wait_until(lambda: len(webhook_receiver.delivered()) == 3, timeout=60)
    sent = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk"))
    got = webhook_receiver.received
    # The first was refused three times and retried; the others waited behind it: order holds.
    assert [r.message_id for r in got] == [sent[0].message_id] * 4 + [sent[1].message_id, sent[2].message_id]
    assert [r.answered for r in got] == [500, 500, 500, 200, 200, 200]
    assert all(r.verified for r in got)
    assert [r.body["data"]["object"]["name"] for r in webhook_receiver.delivered()] == ["alpha", "bravo", "charlie"]
    assert {r.body["team"] for r in got} == {team.tenant.slug}
    assert all(d.status == WebhookDelivery.Status.DELIVERED for d in sent)
    log = list(sent[0].attempt_log.order_by("pk"))
    assert [a.status_code for a in log] == [500, 500, 500, 200]
    assert log[0].response_excerpt == "failing on purpose" and not log[0].succeeded and log[3].succeeded
    endpoint.refresh_from_db()
    assert endpoint.failures_in_a_row == 0 and endpoint.lease_until is None


def test_an_endpoint_that_keeps_failing_is_paused_then_resumed_without_loss(
    team, webhook_receiver, celery_worker_process, settings
):
    endpoint = hook(team, webhook_receiver)
    webhook_receiver.fail_next = 1000
    changes(team, ["delta", "echo"])
    wait_until(lambda: WebhookEndpoint.objects.get(pk=endpoint.pk).is_paused, timeout=60)
    endpoint.refresh_from_db()
    assert "Paused after 6 failed deliveries in a row (the last: HTTP 500)" in endpoint.paused_reason
    entry = AuditEntry.objects.get(action="webhook.pause", object_id=str(endpoint.pk))
    assert entry.tenant == team.tenant and entry.actor == "webhooks"
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).count() == 2
    assert len(webhook_receiver.received) == 6 and not webhook_receiver.delivered()

    webhook_receiver.fail_next = 0
    endpoint_resume(actor=Actor.system("tests"), endpoint=endpoint)
    wait_until(lambda: len(webhook_receiver.delivered()) == 2, timeout=60)
    assert [r.body["data"]["object"]["name"] for r in webhook_receiver.delivered()] == ["delta", "echo"]
