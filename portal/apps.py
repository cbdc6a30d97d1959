from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Tenants, memberships and authentication live in the project package itself."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Tenants and access"

    def ready(self) -> None:
        from .identity_signals import connect_signals

        connect_signals()
