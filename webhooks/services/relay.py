"""The relay: a worker sends an endpoint's deliveries one at a time, oldest first, holding the endpoint's
lease while it does, so no two workers send to one endpoint at once and order holds.

A delivery is marked delivered only after the receiver's 2xx: a worker killed mid-send leaves it pending
and its lease runs out (LEASE_SECONDS), when the sweep (beat, and each worker as it connects) hands the
endpoint to a live worker, which sends it again under the same webhook-id: at least once. A failure
waits WEBHOOK_RETRY_SCHEDULE's next wait, and later deliveries wait behind it; past the schedule the
delivery is given up. WEBHOOK_PAUSE_AFTER_FAILURES failures in a row pause the endpoint.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from networks.sealing import SecretUnreadable, secret_open
from portal.actors import Actor
from portal.changes import change_record

from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ..sending import Answer, post
from ..signing import signed_headers

logger = logging.getLogger(__name__)


def lease_seconds() -> float:
    """Longer than one send can take (connect and read each get the timeout), so a live sender keeps it."""
    return 2 * settings.WEBHOOK_TIMEOUT_SECONDS + 5


def endpoint_claim(endpoint_id: int) -> str | None:
    """The lease on an active endpoint (its token), or None when another worker holds it or it is paused."""
    token = str(uuid.uuid4())
    now = timezone.now()
    claimed = (
        WebhookEndpoint.objects.filter(pk=endpoint_id, status=WebhookEndpoint.Status.ACTIVE)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + timedelta(seconds=lease_seconds()), lease_token=token)
    )
    return token if claimed else None


def endpoint_renew(endpoint_id: int, token: str) -> bool:
    until = timezone.now() + timedelta(seconds=lease_seconds())
    return bool(WebhookEndpoint.objects.filter(pk=endpoint_id, lease_token=token).update(lease_until=until))


def endpoint_release(endpoint_id: int, token: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, lease_token=token).update(lease_until=None, lease_token="")


def secrets_in_use(endpoint: WebhookEndpoint) -> list[str]:
    """The secret, and the one before it while the rotation's overlap lasts."""
    found = [secret_open(endpoint.secret_sealed)]
    if (
        endpoint.previous_secret_sealed
        and endpoint.previous_secret_until
        and endpoint.previous_secret_until > timezone.now()
    ):
        try:
            found.append(secret_open(endpoint.previous_secret_sealed))
        except SecretUnreadable:
            logger.warning(
                "webhook endpoint %s: its previous secret cannot be opened; signing with the new one", endpoint.pk
            )
    return found


def head_of(endpoint_id: int) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING)
        .order_by("pk")
        .first()
    )


def endpoint_send_due(endpoint_id: int) -> float | None:
    """Send the endpoint's deliveries that are due, in order. Returns the seconds until its next
    delivery is due (for a task to come back then), or None when nothing waits (or another worker sends)."""
    token = endpoint_claim(endpoint_id)
    if token is None:
        return None
    try:
        while True:
            endpoint = WebhookEndpoint.objects.select_related("tenant").filter(pk=endpoint_id).first()
            if endpoint is None or endpoint.is_paused:
                return None
            delivery = head_of(endpoint_id)
            if delivery is None:
                return None
            wait = (delivery.next_attempt - timezone.now()).total_seconds()
            if wait > 0:
                return wait
            if not endpoint_renew(endpoint_id, token):
                return None  # the lease ran out and another worker took the endpoint over
            delivery_attempt(endpoint=endpoint, delivery=delivery)
    finally:
        endpoint_release(endpoint_id, token)


def delivery_attempt(*, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> Answer:
    """Send one delivery and record the attempt, its outcome and what follows (retry, give up, pause)."""
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    try:
        headers = signed_headers(
            message_id=delivery.message_id, at=timezone.now(), body=body, secrets_in_use=secrets_in_use(endpoint)
        )
    except SecretUnreadable as error:
        answer = Answer(None, 0, "", str(error))
    else:
        answer = post(endpoint.url, body=body, headers=headers)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            status_code=answer.status_code,
            duration_ms=answer.duration_ms,
            response_excerpt=answer.excerpt,
            error=answer.error,
            succeeded=answer.succeeded,
        )
        delivery.attempts += 1
        now = timezone.now()
        if answer.succeeded:
            delivery.status, delivery.finished = WebhookDelivery.Status.DELIVERED, now
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures_in_a_row=0)
        else:
            schedule = settings.WEBHOOK_RETRY_SCHEDULE
            if delivery.attempts > len(schedule):
                delivery.status, delivery.finished = WebhookDelivery.Status.FAILED, now
            else:
                delivery.next_attempt = now + timedelta(seconds=schedule[delivery.attempts - 1])
            endpoint_failed(endpoint=endpoint, answer=answer)
        delivery.save(update_fields=["status", "finished", "attempts", "next_attempt"])
    return answer


def endpoint_failed(*, endpoint: WebhookEndpoint, answer: Answer) -> None:
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.failures_in_a_row += 1
    fields = ["failures_in_a_row"]
    if locked.failures_in_a_row >= settings.WEBHOOK_PAUSE_AFTER_FAILURES and not locked.is_paused:
        why = f"HTTP {answer.status_code}" if answer.status_code else answer.error
        locked.status = WebhookEndpoint.Status.PAUSED
        locked.paused_reason = (
            f"Paused after {locked.failures_in_a_row} failed deliveries in a row (the last: {why})"[:480]
            + ". Fix the receiver, then resume: nothing waiting is lost."
        )
        fields += ["status", "paused_reason", "updated"]
        change_record(
            actor=Actor.system("webhooks"),
            action="webhook.pause",
            tenant=endpoint.tenant,
            obj=locked,
            details={"url": locked.url, "failures_in_a_row": locked.failures_in_a_row},
        )
    locked.save(update_fields=fields)
    endpoint.status, endpoint.failures_in_a_row = locked.status, locked.failures_in_a_row


def endpoints_to_send() -> list[int]:
    """Active endpoints with a due delivery and no live lease: those whose word was lost (a task queue
    that was down, a worker killed mid-send, a retry's countdown lost in a Redis restart)."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt__lte=now)
    return list(
        WebhookEndpoint.objects.filter(status=WebhookEndpoint.Status.ACTIVE, pk__in=due.values("endpoint_id"))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("pk", flat=True)
    )
