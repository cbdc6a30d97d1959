"""GET /metrics for Prometheus: with the bearer token METRICS_TOKEN, or from an address in METRICS_ALLOWED_IPS."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from networks.metrics import PortalCollector
from portal.addresses import client_address

REFUSAL = (
    "Metrics are for the monitoring system: send its token as `Authorization: Bearer <METRICS_TOKEN>`, "
    "or scrape from an address in METRICS_ALLOWED_IPS.\n"
)


def _allowed_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_IPS:
        try:
            if ip in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue  # a mistyped entry allows nothing
    return False


def may_scrape(request) -> bool:
    """A bearer token, when one is sent, must be the right one; without one, the address decides."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, sent = header.partition(" ")
        token = settings.METRICS_TOKEN
        return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())
    return _allowed_address(client_address(request))


@require_GET
def metrics_view(request):
    if not may_scrape(request):
        return HttpResponse(REFUSAL, status=403, content_type="text/plain; charset=utf-8")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
