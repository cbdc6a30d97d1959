"""The address a request comes from, the same for the login lockout, the API's bad-token limit and /metrics.

Behind a reverse proxy every request reaches the portal from the proxy: TRUSTED_PROXY_COUNT (the
number of proxies in front, which each append to X-Forwarded-For) says which entry of the header is
the client's. With no proxy trusted, the header is ignored, since anyone can send it.
"""

from __future__ import annotations

from django.conf import settings


def client_address(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-min(proxies, len(forwarded))] if forwarded else remote
