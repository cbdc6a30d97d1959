"""Every save and delete of a row that decides who may do what bumps the API's identity generation
(portal/identity_cache.py says what is remembered, and why a change must reach every process)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from .identity_cache import USE_FIELDS, generation_bump
from .models import ApiToken, Membership, Tenant


def _changed(sender, **kwargs) -> None:
    update_fields = kwargs.get("update_fields")
    if update_fields and USE_FIELDS.issuperset(update_fields):
        return
    generation_bump()


def connect_signals() -> None:
    """From PortalConfig.ready: every save and delete of a row that decides who may do what."""
    user_model = get_user_model()
    for model in (ApiToken, Membership, Tenant, user_model):
        uid = f"identity_cache:{model._meta.label}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}:save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}:delete")
    for through in (user_model.groups.through, user_model.user_permissions.through):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"identity_cache:{through._meta.label}")
    post_migrate.connect(_changed, dispatch_uid="identity_cache:migrate")
