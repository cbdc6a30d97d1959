"""A team's webhook endpoints: add (its secret shown once), rotate the secret with an overlap, resume a
paused one, remove; send a delivery again, or a test ping. Owners only; every change is in the audit log."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from networks.sealing import secret_seal
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.changes import change_record
from portal.models import Tenant

from ..destinations import UnsafeDestination, destination_resolve
from ..events import PING, BadEvents, events_clean
from ..models import WebhookDelivery, WebhookEndpoint
from ..signing import secret_new
from .outbox import delivery_add, relay_wake

OWNERS_ONLY = "Only the team's owners can add, change or remove its webhooks."
URL_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 200
MAX_ENDPOINTS = 20


def _record(*, actor: Actor, action: str, endpoint: WebhookEndpoint, endpoint_id=None, **details) -> None:
    change_record(
        actor=actor,
        action=action,
        tenant=endpoint.tenant,
        obj=endpoint,
        object_id=endpoint_id,
        details={"url": endpoint.url, **details},
    )


def url_clean(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ServiceError("missing_url", "Give the URL deliveries are sent to.", field="url")
    if len(url) > URL_MAX_LENGTH:
        raise ServiceError("bad_url", f"The URL is at most {URL_MAX_LENGTH} characters.", field="url")
    try:
        destination_resolve(url)
    except UnsafeDestination as refusal:
        raise ServiceError("unsafe_destination", str(refusal), field="url") from refusal
    return url


def endpoint_create(
    *, actor: Actor, tenant: Tenant, url: str, events, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its secret, in clear this once (only its sealed form is kept)."""
    try:
        wanted = events_clean(events)
    except BadEvents as refusal:
        raise ServiceError("bad_events", str(refusal), field="events") from refusal
    url = url_clean(url)  # last: it asks DNS
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ServiceError(
            "bad_description", f"The description is at most {DESCRIPTION_MAX_LENGTH} characters.", field="description"
        )
    if WebhookEndpoint.objects.filter(tenant=tenant).count() >= MAX_ENDPOINTS:
        raise ServiceError(
            "too_many_endpoints", f"A team has at most {MAX_ENDPOINTS} webhooks: remove one first.", http_status=409
        )
    secret = secret_new()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant,
            url=url,
            description=description,
            events=wanted,
            secret_sealed=secret_seal(secret),
            created_by=actor.user,
        )
        _record(actor=actor, action="webhook.create", endpoint=endpoint, events=wanted)
    return endpoint, secret


@transaction.atomic
def endpoint_rotate_secret(*, actor: Actor, endpoint: WebhookEndpoint) -> str:
    """A new secret (shown once); the old one keeps signing beside it for WEBHOOK_SECRET_OVERLAP_HOURS."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = secret_new()
    locked.previous_secret_sealed = locked.secret_sealed
    locked.previous_secret_until = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    locked.secret_sealed = secret_seal(secret)
    locked.save(update_fields=["previous_secret_sealed", "previous_secret_until", "secret_sealed", "updated"])
    _record(actor=actor, action="webhook.rotate_secret", endpoint=locked)
    endpoint.previous_secret_until = locked.previous_secret_until
    return secret


@transaction.atomic
def endpoint_resume(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A paused endpoint sends again, from its oldest pending delivery, at once."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not locked.is_paused:
        raise ServiceError("not_paused", "This webhook is not paused: it already sends.", http_status=409)
    locked.status, locked.failures_in_a_row, locked.paused_reason = WebhookEndpoint.Status.ACTIVE, 0, ""
    locked.save(update_fields=["status", "failures_in_a_row", "paused_reason", "updated"])
    locked.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(next_attempt=timezone.now())
    _record(actor=actor, action="webhook.resume", endpoint=locked)
    relay_wake(endpoint_id=locked.pk)
    return locked


@transaction.atomic
def endpoint_remove(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    endpoint_id = endpoint.pk
    endpoint.delete()
    _record(actor=actor, action="webhook.remove", endpoint=endpoint, endpoint_id=endpoint_id)


@transaction.atomic
def delivery_send_again(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """The same message (same webhook-id, so a receiver that has it can drop it) queued again, with a
    fresh round of retries."""
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.status == WebhookDelivery.Status.PENDING:
        raise ServiceError("already_pending", "This delivery is already waiting to be sent.", http_status=409)
    locked.status, locked.attempts, locked.finished = WebhookDelivery.Status.PENDING, 0, None
    locked.next_attempt = timezone.now()
    locked.save(update_fields=["status", "attempts", "finished", "next_attempt"])
    _record(actor=actor, action="webhook.redeliver", endpoint=locked.endpoint, message_id=locked.message_id)
    relay_wake(endpoint_id=locked.endpoint_id)
    return locked


@transaction.atomic
def endpoint_ping(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A test event (webhook.ping), sent like any other, after what is already waiting."""
    data = {"message": "A test ping from the portal: this endpoint receives the team's webhooks."}
    delivery = delivery_add(endpoint=endpoint, event_type=PING, tenant=endpoint.tenant, data=data)
    _record(actor=actor, action="webhook.ping", endpoint=endpoint, message_id=delivery.message_id)
    return delivery
