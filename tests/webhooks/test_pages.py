"""The Webhooks page: owners add an endpoint (its secret shown on that answer only), ping, rotate, resume
and remove it; every member reads the list and the delivery log; a paused endpoint shows why."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from networks.sealing import secret_open
from portal.actors import Actor
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.endpoints import endpoint_create

pytestmark = pytest.mark.django_db

PAGE = "/webhooks/"
URL = "http://127.0.0.1:9/hook"


def test_an_owner_adds_a_webhook_and_sees_its_secret_once(client, team):
    client.force_login(team.owner)
    response = client.post(PAGE, {"url": URL, "description": "chat", "events": ["network.*", "operation.failed"]})
    assert response.status_code == 201
    secret = re.search(r'id="webhook-secret-value">(whsec_[^<]+)<', response.content.decode()).group(1)
    endpoint = WebhookEndpoint.objects.get(tenant=team.tenant)
    assert secret_open(endpoint.secret_sealed) == secret and endpoint.events == ["network.*", "operation.failed"]
    again = client.get(PAGE)
    assert URL in again.content.decode() and secret not in again.content.decode()
    assert secret not in client.get(f"{PAGE}{endpoint.pk}/").content.decode()


@override_settings(WEBHOOK_ALLOWED_NETWORKS=[])
def test_refusals_are_sentences_on_their_field(client, team):
    client.force_login(team.owner)
    page = client.post(PAGE, {"url": URL, "events": ["network.*"]})
    assert page.status_code == 400
    assert "127.0.0.1 is this machine (loopback)" in page.content.decode()
    page = client.post(PAGE, {"url": "https://hooks.example.com/x"})
    assert page.status_code == 400 and "Pick at least one event" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("allow_http", "allowed", "help_text"),
    [
        (False, [], "Where deliveries are POSTed: https://, to a public address."),
        (
            True,
            ["127.0.0.1/32"],
            "Where deliveries are POSTed: http:// or https://, to a public address or in 127.0.0.1/32.",
        ),
    ],
)
def test_the_url_field_says_where_a_webhook_may_go_as_the_settings_have_it(
    client, team, allow_http, allowed, help_text
):
    """`make run` lets its portal send http to its local receiver (scripts/serve): the form says so."""
    client.force_login(team.owner)
    with override_settings(WEBHOOK_ALLOW_HTTP=allow_http, WEBHOOK_ALLOWED_NETWORKS=allowed):
        assert help_text in client.get(PAGE).content.decode()


def test_members_read_only_owners_act_and_other_teams_get_404(client, team, other_team):
    endpoint, _ = endpoint_create(actor=Actor.system("tests"), tenant=team.tenant, url=URL, events=["network.*"])
    client.force_login(team.member)
    assert URL in client.get(PAGE).content.decode()
    assert 'name="url"' not in client.get(PAGE).content.decode()
    assert client.post(PAGE, {"url": URL, "events": ["network.*"]}).status_code == 403
    assert client.post(f"{PAGE}{endpoint.pk}/ping/").status_code == 403
    client.force_login(other_team.owner)
    assert client.get(f"{PAGE}{endpoint.pk}/").status_code == 404
    assert client.post(f"{PAGE}{endpoint.pk}/remove/").status_code == 404


def test_ping_rotate_pause_banner_resume_and_remove(client, team):
    endpoint, secret = endpoint_create(actor=Actor.system("tests"), tenant=team.tenant, url=URL, events=["network.*"])
    client.force_login(team.owner)
    detail = f"{PAGE}{endpoint.pk}/"
    assert client.post(f"{detail}ping/").status_code == 302
    assert WebhookDelivery.objects.get(endpoint=endpoint).event_type == "webhook.ping"
    assert "webhook.ping" in client.get(detail).content.decode()
    rotated = client.post(f"{detail}rotate-secret/")
    new = re.search(r'id="webhook-secret-value">(whsec_[^<]+)<', rotated.content.decode()).group(1)
    assert new != secret and "Old secret also signs until" in rotated.content.decode()
    reason = "Paused after 6 failed deliveries in a row (the last: HTTP 500). Fix the receiver, then resume."
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(status=WebhookEndpoint.Status.PAUSED, paused_reason=reason)
    page = client.get(detail).content.decode()
    assert 'id="webhook-paused"' in page and reason in page
    client.post(f"{detail}resume/")
    assert not WebhookEndpoint.objects.get(pk=endpoint.pk).is_paused
    assert 'id="webhook-paused"' not in client.get(detail).content.decode()
    assert client.post(f"{detail}remove/").status_code == 302
    assert not WebhookEndpoint.objects.exists()
