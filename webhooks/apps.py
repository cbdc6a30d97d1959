from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self) -> None:
        # Every change recorded (portal/changes.py) is matched against the endpoints in its own transaction.
        from portal.changes import subscribe_in_transaction

        from .services.outbox import deliveries_record, endpoints_foresee

        subscribe_in_transaction(deliveries_record, foresee=endpoints_foresee)
