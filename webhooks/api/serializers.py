"""Webhooks in the REST mirror: the body that adds an endpoint, an endpoint as the team sees it (never
its secret, but once: in the answer that made or rotated it), and the delivery log."""

from __future__ import annotations

from rest_framework import serializers

from plumbing.api.fields import StrictSerializer, Text, TextList

from ..events import EVENT_TYPES, MAX_EVENTS, PATTERNS
from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ..services.endpoints import DESCRIPTION_MAX_LENGTH, URL_MAX_LENGTH


class WebhookCreateSerializer(StrictSerializer):
    url = Text(max_length=URL_MAX_LENGTH, help_text="Where deliveries are POSTed: https://, to a public address.")
    events = TextList(
        child=Text(max_length=100),
        max_length=MAX_EVENTS,
        help_text=f"Event names ({', '.join(EVENT_TYPES[:3])}, …) or patterns ({', '.join(PATTERNS[:3])}, …).",
    )
    description = Text(allow_blank=True, required=False, default="", max_length=DESCRIPTION_MAX_LENGTH)


class WebhookSerializer(serializers.ModelSerializer):
    """An endpoint as the team sees it: never its secret, sealed or not."""

    pending_deliveries = serializers.IntegerField(source="pending_count", read_only=True, default=0)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "status", "paused_reason", "failures_in_a_row"]
        fields += ["previous_secret_until", "pending_deliveries", "created", "updated"]


class WebhookSecretSerializer(WebhookSerializer):
    """The answer that made an endpoint or rotated its secret: the secret in clear, this once."""

    secret = serializers.CharField(help_text="The signing secret (whsec_…): shown this once, keep it.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "duration_ms", "response_excerpt", "error", "succeeded"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "message_id", "event_type", "status", "attempts", "next_attempt", "created", "finished"]
        fields += ["payload", "attempt_log"]
