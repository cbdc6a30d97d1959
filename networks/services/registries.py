"""Images from registries: which registry an image comes from, and a team's login to it."""

from __future__ import annotations

import re

from django.db import transaction

from networks.models import RegistryLogin
from networks.sealing import secret_open, secret_seal
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.changes import change_record
from portal.models import AuditEntry, Tenant

DOCKER_HUB = "docker.io"
NAME_MAX_LENGTH = 255  # the registry's and the user name's columns
REGISTRY_PASSWORD_MAX_LENGTH = 8192  # a registry's token or key file (Google's _json_key) fits
OWNERS_ONLY = "Only the team's owners can add, replace or remove its registry logins."
REGISTRY_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def registry_of(image: str) -> str:
    """The registry an image reference names (Docker's rule: a first part with a dot, a colon, or
    localhost is a registry; anything else is on Docker Hub)."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return DOCKER_HUB


def _login_change_record(*, actor: Actor, action: str, login: RegistryLogin, login_id: int | None = None) -> AuditEntry:
    """Record a change to a team's registry login: which registry and user name, never the password.

    `login_id` is the id a removed login had (Django clears it on delete)."""
    details = {"registry": login.registry, "username": login.username}
    return change_record(
        actor=actor, action=action, tenant=login.tenant, obj=login, object_id=login_id, details=details
    )


def registry_login_set(*, actor: Actor, tenant: Tenant, registry: str, username: str, password: str) -> RegistryLogin:
    registry = registry.strip().lower()
    if not REGISTRY_PATTERN.match(registry) or len(registry) > NAME_MAX_LENGTH:
        raise ServiceError(
            "bad_registry",
            f'"{registry[:100]}" is not a registry address. Give it as images name it: host or host:port.',
            field="registry",
        )
    if not username.strip() or not password:
        raise ServiceError(
            "missing_login",
            "Give both the user name and the password (or token).",
            field="username" if not username.strip() else "password",
        )
    if len(username.strip()) > NAME_MAX_LENGTH:
        raise ServiceError("bad_username", f"The user name is at most {NAME_MAX_LENGTH} characters.", field="username")
    if len(password) > REGISTRY_PASSWORD_MAX_LENGTH:
        raise ServiceError(
            "bad_password",
            f"The password (or token) is at most {REGISTRY_PASSWORD_MAX_LENGTH} characters.",
            field="password",
        )
    with transaction.atomic():
        login, _ = RegistryLogin.objects.update_or_create(
            tenant=tenant,
            registry=registry,
            defaults={"username": username.strip(), "password_sealed": secret_seal(password)},
        )
        _login_change_record(actor=actor, action="registry_login.set", login=login)
    return login


@transaction.atomic
def registry_login_remove(*, actor: Actor, login: RegistryLogin) -> None:
    login_id = login.pk
    login.delete()
    _login_change_record(actor=actor, action="registry_login.remove", login=login, login_id=login_id)


def registry_auth_for(*, tenant: Tenant | None, image: str) -> dict | None:
    """Docker's auth_config for pulling `image` with the team's login to its registry, if it has one
    (only a worker calls this: it opens the password)."""
    if tenant is None:
        return None
    login = RegistryLogin.objects.filter(tenant=tenant, registry=registry_of(image)).first()
    if login is None:
        return None
    return {"username": login.username, "password": secret_open(login.password_sealed)}
