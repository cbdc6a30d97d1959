"""The pure rules of webhooks: which events a pattern names, which destinations are refused and why,
and signatures a Standard Webhooks receiver accepts (the new secret's and, in an overlap, the old one's)."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks.destinations import UnsafeDestination, address_refusal, destination_resolve, url_check
from webhooks.events import BadEvents, event_matches, events_clean
from webhooks.signing import secret_new, signed_headers


def test_patterns_match_their_family_only():
    assert event_matches("network.create", ["network.*"])
    assert event_matches("operation.failed", ["operation.failed"])
    assert not event_matches("operation.succeeded", ["operation.failed"])
    assert not event_matches("networkx.create", ["network.*"])
    assert not event_matches("container.run", ["network.*", "operation.*"])


def test_events_are_checked_with_a_sentence():
    assert events_clean(["network.*", "operation.failed", "network.*"]) == ["network.*", "operation.failed"]
    assert events_clean("network.create, container.*") == ["network.create", "container.*"]
    with pytest.raises(BadEvents, match='"network.explode" is not an event'):
        events_clean(["network.explode"])
    with pytest.raises(BadEvents, match="Pick at least one event"):
        events_clean([])
    with pytest.raises(BadEvents, match="is not an event"):
        events_clean([{"a": 1}])


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.1.2.3", "private range"),
        ("192.168.1.1", "private range"),
        ("172.16.0.9", "private range"),
        ("fd00::1", "private range"),
        ("0.0.0.0", "private range"),
        ("224.0.0.1", "not a public address"),
    ],
)
@override_settings(WEBHOOK_ALLOWED_NETWORKS=[])
def test_private_addresses_are_refused_with_the_reason(address, why):
    assert why in address_refusal(ipaddress.ip_address(address), set())


@override_settings(WEBHOOK_ALLOWED_NETWORKS=[])
def test_a_public_address_passes_and_a_node_does_not():
    assert address_refusal(ipaddress.ip_address("93.184.216.34"), set()) is None
    assert "is a node of a cluster" in address_refusal(ipaddress.ip_address("93.184.216.34"), {"93.184.216.34"})


@override_settings(WEBHOOK_ALLOWED_NETWORKS=["10.9.0.0/16"])
def test_staff_allow_a_range():
    assert address_refusal(ipaddress.ip_address("10.9.3.4"), set()) is None
    assert address_refusal(ipaddress.ip_address("10.8.3.4"), set())


@override_settings(WEBHOOK_ALLOW_HTTP=False)
def test_https_only_unless_staff_allow_http():
    with pytest.raises(UnsafeDestination, match="https only"):
        url_check("http://hooks.example.com/x")
    with pytest.raises(UnsafeDestination, match="Leave the user name and password out"):
        url_check("https://user:pw@hooks.example.com/x")
    with pytest.raises(UnsafeDestination, match="Give an https:// URL"):
        url_check("ftp://hooks.example.com/x")
    assert url_check("https://hooks.example.com:8443/x") == ("https", "hooks.example.com", 8443)


@pytest.mark.django_db
@override_settings(WEBHOOK_ALLOWED_NETWORKS=[], WEBHOOK_ALLOW_HTTP=True)
def test_a_name_that_resolves_to_loopback_is_refused_after_resolving():
    with pytest.raises(UnsafeDestination, match=r"localhost: 127\.0\.0\.1 is this machine \(loopback\)"):
        destination_resolve("http://localhost:8080/hook")
    with pytest.raises(UnsafeDestination, match="cannot be found"):
        destination_resolve("https://no-such-host.invalid/hook")


def test_signatures_verify_with_the_library_and_both_secrets_sign_in_an_overlap():
    old, new = secret_new(), secret_new()
    assert new.startswith("whsec_") and old != new
    body = json.dumps({"type": "network.create"}).encode()
    headers = signed_headers(message_id="msg_1", at=datetime.now(UTC), body=body, secrets_in_use=[new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(body, headers) == {"type": "network.create"}
    assert Webhook(old).verify(body, headers) == {"type": "network.create"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_new()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + b" ", headers)
