"""The identity provider as the portal reaches it: its discovery document and its signing keys, each
kept for OIDC_METADATA_SECONDS, every call bounded by OIDC_TIMEOUT, and the URL that ends a session
there.

A provider that does not answer, answers slowly or answers nonsense raises ProviderUnavailable, whose
sentence the sign-in pages show next to the local sign-in.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.utils.text import capfirst

from plumbing.errors import ServiceError

_cache: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()


class ProviderUnavailable(ServiceError):
    http_status = 503


def provider_unavailable(detail: str) -> ProviderUnavailable:
    return ProviderUnavailable(
        "provider_unavailable",
        f"{capfirst(settings.OIDC_LABEL)} did not answer ({detail}). Try again in a few minutes; "
        "staff can sign in with their password meanwhile.",
    )


def fetch_json(url: str, what: str) -> dict:
    """GET a JSON object from the provider within OIDC_TIMEOUT seconds."""
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except requests.Timeout as error:
        raise provider_unavailable(f"its {what} took longer than {settings.OIDC_TIMEOUT:g} s") from error
    except requests.ConnectionError as error:
        raise provider_unavailable(f"nothing answers at {url}") from error
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else "an error"
        raise provider_unavailable(f"its {what} answered {status}") from error
    except ValueError as error:
        raise provider_unavailable(f"its {what} is not JSON") from error
    if not isinstance(document, dict):
        raise provider_unavailable(f"its {what} is not a JSON object")
    return document


def _cached(name: str, load, refresh: bool = False) -> dict:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(name)
    if hit is not None and not refresh and now - hit[0] < settings.OIDC_METADATA_SECONDS:
        return hit[1]
    document = load()
    with _lock:
        _cache[name] = (now, document)
    return document


def forget() -> None:
    """Drop the kept documents (the tests point the portal at another provider)."""
    with _lock:
        _cache.clear()


def metadata() -> dict:
    """The provider's discovery document, checked to name the configured issuer and the endpoints used."""

    def load() -> dict:
        document = fetch_json(settings.OIDC_DISCOVERY_URL, "discovery document")
        if document.get("issuer", "").rstrip("/") != settings.OIDC_ISSUER:
            raise provider_unavailable(
                f"its discovery document names the issuer {document.get('issuer')!r}, not {settings.OIDC_ISSUER!r}"
            )
        missing = [key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(key)]
        if missing:
            raise provider_unavailable(f"its discovery document has no {', '.join(missing)}")
        return document

    return _cached(f"metadata {settings.OIDC_DISCOVERY_URL}", load)


def signing_keys(*, refresh: bool = False) -> dict:
    """The provider's JWKS document; `refresh` asks again (a token signed by a key not seen yet)."""
    uri = metadata()["jwks_uri"]
    return _cached(f"keys {uri}", lambda: fetch_json(uri, "key set"), refresh=refresh)


def end_session_url(*, id_token: str | None, after: str) -> str | None:
    """Where the browser ends its session at the provider, then comes back to `after`; None when the
    provider offers no end-session endpoint or cannot be asked now (the portal's session ends anyway)."""
    try:
        endpoint = metadata().get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    query = {"client_id": settings.OIDC_RP_CLIENT_ID, "post_logout_redirect_uri": after}
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
