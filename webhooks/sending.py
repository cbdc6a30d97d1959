"""One POST to a receiver, to the address that was checked (no second DNS lookup), redirects not
followed, with a short timeout; what came back, cut to its first KB."""

from __future__ import annotations

import functools
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

from .destinations import UnsafeDestination, destination_resolve

EXCERPT_BYTES = 1024


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Made once per process: loading the CA bundle took ~15 ms of every send (bench/webhooks.py)."""
    return httpx.create_ssl_context()


@dataclass
class Answer:
    status_code: int | None
    duration_ms: int
    excerpt: str
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    started = time.monotonic()

    def answer(status_code=None, excerpt="", error="") -> Answer:
        return Answer(status_code, int((time.monotonic() - started) * 1000), excerpt, error[:500])

    try:
        scheme, host, port, address = destination_resolve(url)
    except UnsafeDestination as refusal:
        return answer(error=str(refusal))
    parts = urlsplit(url)
    literal = f"[{address}]" if address.version == 6 else str(address)
    by_address = urlunsplit((scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    default_port = 443 if scheme == "https" else 80
    headers = {**headers, "host": host if port == default_port else f"{host}:{port}"}
    extensions = {"sni_hostname": host} if scheme == "https" else {}
    try:
        with (
            httpx.Client(
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False, verify=tls_context()
            ) as client,
            client.stream("POST", by_address, content=body, headers=headers, extensions=extensions) as response,
        ):
            read = b""
            for chunk in response.iter_bytes():
                read += chunk
                if len(read) >= EXCERPT_BYTES:
                    break
            excerpt = read[:EXCERPT_BYTES].decode("utf-8", "replace")
            error = ""
            if 300 <= response.status_code < 400:
                error = "The receiver answered with a redirect; webhooks do not follow them. Give the final URL."
            return answer(response.status_code, excerpt, error)
    except httpx.TimeoutException:
        return answer(error=f"The receiver did not answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s.")
    except httpx.ConnectError as error:
        return answer(error=f"The receiver refused the connection or cannot be reached: {error}")
    except httpx.HTTPError as error:
        return answer(error=f"The delivery failed: {error}")
