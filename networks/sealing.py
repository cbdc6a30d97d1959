"""Secret environment values at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256) until a worker
starts the container, then forgotten.

A secret value is never written in clear: the web process seals it before the container's row is
saved, only the worker opens it, right before handing it to Docker, and then keeps only its name.
Keys come from PORTAL_SECRETS_KEYS (comma-separated Fernet keys, newest first): the first seals,
every one opens, so a key is rotated by putting a new one first and dropping the old one once no
run sealed with it is pending (or after `secret_rotate` re-sealed it).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """A sealed value that none of the configured keys opens (a key was dropped too early)."""


def _fernet(keys: list[str] | None = None) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in (keys if keys is not None else settings.PORTAL_SECRETS_KEYS)])


def secret_seal(value: str, *, keys: list[str] | None = None) -> str:
    return _fernet(keys).encrypt(value.encode()).decode()


def secret_open(sealed: str, *, keys: list[str] | None = None) -> str:
    try:
        return _fernet(keys).decrypt(sealed.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "A secret value cannot be read with the portal's keys (PORTAL_SECRETS_KEYS): put back the key it was "
            "sealed with, or run the container again with the value."
        ) from error


def secret_rotate(sealed: str, *, keys: list[str] | None = None) -> str:
    """The same value sealed with the first key."""
    return _fernet(keys).rotate(sealed.encode()).decode()


def environment_seal(environment: list[dict]) -> list[dict]:
    """Rows as stored: a secret's value is replaced by its sealed form ("sealed"), "value" left empty."""
    return [
        {**row, "value": "", "sealed": secret_seal(row["value"])} if row.get("secret") else row for row in environment
    ]


def environment_open(environment: list[dict]) -> dict[str, str]:
    """NAME -> value, secrets opened: what Docker is given (only a worker calls this)."""
    return {
        row["name"]: secret_open(row["sealed"]) if row.get("secret") and row.get("sealed") else row.get("value", "")
        for row in environment
    }


def environment_forget(environment: list[dict]) -> list[dict]:
    """Rows once Docker has the values (or the run failed): a secret keeps only its name."""
    return [{"name": row["name"], "value": "", "secret": True} if row.get("secret") else row for row in environment]
