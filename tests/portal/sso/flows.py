"""Signing in through the real local provider with Django's test client: the start, the provider's form
posted as `sub`, and the callback."""

from __future__ import annotations

from urllib.parse import urlsplit


def begin(client, next_url: str = "") -> str:
    """The portal's start; returns the provider's authorization URL it redirects to."""
    response = client.get("/sso/start/" + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302, response.content
    return response["Location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def sign_in(client, provider, sub: str, next_url: str = ""):
    """The whole round trip; returns the portal's answer to the callback."""
    back = provider.authorize(begin(client, next_url), sub)
    return client.get(callback_path(back))
