"""Secrets and signatures the Standard Webhooks way (the `standardwebhooks` library): `whsec_` secrets,
and the webhook-id, webhook-timestamp and webhook-signature headers, with one signature per secret that
is still valid (the new one and, during a rotation's overlap, the old one), separated by spaces."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_BYTES = 24


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(*, message_id: str, at: datetime, body: bytes, secrets_in_use: list[str]) -> dict[str, str]:
    signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets_in_use)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "overlay-portal-webhooks/1",
    }
