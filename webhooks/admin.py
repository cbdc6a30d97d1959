"""Webhook endpoints in the admin, read-only: owners manage them on the Webhooks page (the secret never shows)."""

from django.contrib import admin

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "tenant", "status", "failures_in_a_row", "created"]
    list_filter = ["status"]
    search_fields = ["url", "tenant__name"]
    exclude = ["secret_sealed", "previous_secret_sealed", "lease_token"]
    readonly_fields = ["tenant", "url", "description", "events", "status", "failures_in_a_row", "paused_reason"]
    readonly_fields += ["previous_secret_until", "lease_until", "created_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["message_id", "event_type", "endpoint", "status", "attempts", "created"]
    list_filter = ["status", "event_type"]
    search_fields = ["message_id", "endpoint__url"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
