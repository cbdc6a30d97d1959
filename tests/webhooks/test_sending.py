"""The send itself, against a real receiver on 127.0.0.1: the address is checked again at each send (an
endpoint saved while its range was allowed is refused once it is not: nothing reaches it), and a
redirect is a failure, not followed."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from portal.actors import Actor
from webhooks.models import WebhookDelivery
from webhooks.sending import post
from webhooks.services.endpoints import endpoint_create, endpoint_ping
from webhooks.services.relay import endpoint_send_due

pytestmark = pytest.mark.django_db


def test_the_destination_is_checked_again_at_each_send(team, webhook_receiver):
    endpoint, secret = endpoint_create(
        actor=Actor.system("tests"), tenant=team.tenant, url=webhook_receiver.url, events=["network.*"]
    )
    delivery = endpoint_ping(actor=Actor.system("tests"), endpoint=endpoint)
    with override_settings(WEBHOOK_ALLOWED_NETWORKS=[]):
        endpoint_send_due(endpoint.pk)
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code is None and "127.0.0.1 is this machine (loopback)" in attempt.error
    assert webhook_receiver.received == []
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookDelivery.Status.PENDING  # retried later


def test_a_redirect_is_not_followed():
    followed = []

    class Redirecting(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            if self.path == "/elsewhere":
                followed.append(self.path)
            self.send_response(302)
            self.send_header("location", "/elsewhere")
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = post(f"http://127.0.0.1:{server.server_address[1]}/hook", body=b"{}", headers={})
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status_code == 302 and not answer.succeeded
    assert "do not follow them" in answer.error and followed == []
