"""A team's webhook endpoints and their delivery log, read per team (another team's id is a 404), never
with their sealed secrets."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from portal.models import Tenant

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

DELIVERIES_SHOWN = 50


def webhook_endpoint_list(*, tenant: Tenant) -> QuerySet[WebhookEndpoint]:
    pending = Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING))
    return (
        WebhookEndpoint.objects.filter(tenant=tenant)
        .defer("secret_sealed", "previous_secret_sealed")
        .annotate(pending_count=pending)
        .order_by("pk")
    )


def webhook_endpoint_get(*, tenant: Tenant, pk: int) -> WebhookEndpoint:
    return get_object_or_404(webhook_endpoint_list(tenant=tenant), pk=pk)


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, each with its attempts (newest first)."""
    attempts = Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-pk"))
    return WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related(attempts).order_by("-pk")


def webhook_delivery_get(*, endpoint: WebhookEndpoint, pk: int) -> WebhookDelivery:
    return get_object_or_404(WebhookDelivery.objects.filter(endpoint=endpoint), pk=pk)
