"""/api/v1/webhooks/: members read the team's endpoints and delivery log, owners add (the secret in that
answer only), rotate, resume, ping, send again and remove; unsafe URLs are refused with the reason."""

from __future__ import annotations

import pytest
from django.test import override_settings
from standardwebhooks.webhooks import Webhook

from networks.sealing import secret_open
from portal.models import AuditEntry
from tests.apiclient import assert_error
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PATH = "webhooks/"
BODY = {"url": "http://127.0.0.1:9/hook", "events": ["network.*", "operation.failed"], "description": "chat"}


def add(team):
    response = team.api().post(PATH, BODY)
    assert response.status_code == 201, response.content
    return response.json()


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(api_team):
    body = add(api_team)
    assert body["secret"].startswith("whsec_") and body["events"] == ["network.*", "operation.failed"]
    endpoint = WebhookEndpoint.objects.get(pk=body["id"], tenant=api_team.tenant)
    assert secret_open(endpoint.secret_sealed) == body["secret"] and body["secret"] not in endpoint.secret_sealed
    for answer in (api_team.api("viewer").get(PATH), api_team.api().get(f"{PATH}{endpoint.pk}/")):
        assert answer.status_code == 200 and body["secret"] not in answer.content.decode()
        assert "secret" not in (answer.json().get("results") or [answer.json()])[0]
    entry = AuditEntry.objects.get(action="webhook.create", object_id=str(endpoint.pk))
    assert body["secret"] not in str(entry.details)


def test_only_owners_change_and_other_teams_see_nothing(api_team, other_api_team):
    body = add(api_team)
    for role in ("member", "viewer"):
        assert_error(api_team.api(role).post(PATH, BODY), 403)
        assert_error(api_team.api(role).post(f"{PATH}{body['id']}/ping/"), 403)
    assert api_team.api("viewer").get(f"{PATH}{body['id']}/deliveries/").status_code == 200
    for path in (f"{PATH}{body['id']}/", f"{PATH}{body['id']}/deliveries/"):
        assert_error(other_api_team.api().get(path), 404)
    assert_error(other_api_team.api().post(f"{PATH}{body['id']}/rotate-secret/"), 404)
    assert other_api_team.api().get(PATH).json()["results"] == []


@override_settings(WEBHOOK_ALLOWED_NETWORKS=[], WEBHOOK_ALLOW_HTTP=False)
def test_unsafe_destinations_are_refused_with_the_reason(api_team):
    response = api_team.api().post(PATH, {**BODY, "url": "https://127.0.0.1/hook"})
    assert_error(response, 400, "unsafe_destination", "url")
    assert "127.0.0.1 is this machine (loopback)" in response.json()["error"]["message"]
    response = api_team.api().post(PATH, {**BODY, "url": "http://hooks.example.com/x"})
    assert_error(response, 400, "unsafe_destination", "url")
    assert "https only" in response.json()["error"]["message"]


def test_bad_bodies_are_refused_on_their_field(api_team):
    assert_error(api_team.api().post(PATH, {**BODY, "events": ["network.explode"]}), 400, "bad_events", "events")
    assert_error(api_team.api().post(PATH, {**BODY, "events": "network.*"}), 400, field="events")
    assert_error(api_team.api().post(PATH, {**BODY, "secret": "mine"}), 400)
    assert_error(api_team.api().post(PATH, {**BODY, "url": 42}), 400, field="url")


def test_ping_redeliver_rotate_and_resume(api_team):
    body = add(api_team)
    base = f"{PATH}{body['id']}/"
    ping = api_team.api().post(f"{base}ping/")
    assert ping.status_code == 202 and ping.json()["event_type"] == "webhook.ping"
    deliveries = api_team.api().get(f"{base}deliveries/").json()["results"]
    assert [d["event_type"] for d in deliveries] == ["webhook.ping"]
    assert_error(api_team.api().post(f"{base}deliveries/{deliveries[0]['id']}/redeliver/"), 409, "already_pending")
    WebhookDelivery.objects.filter(pk=deliveries[0]["id"]).update(status=WebhookDelivery.Status.FAILED, attempts=9)
    again = api_team.api().post(f"{base}deliveries/{deliveries[0]['id']}/redeliver/")
    assert again.status_code == 202 and again.json()["status"] == "pending" and again.json()["attempts"] == 0
    assert again.json()["message_id"] == deliveries[0]["message_id"]
    assert_error(api_team.api().post(f"{base}deliveries/999999/redeliver/"), 404)

    rotated = api_team.api().post(f"{base}rotate-secret/").json()
    assert rotated["secret"] != body["secret"] and rotated["previous_secret_until"]
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert secret_open(endpoint.previous_secret_sealed) == body["secret"]
    assert Webhook(rotated["secret"])  # a secret the library reads

    assert_error(api_team.api().post(f"{base}resume/"), 409, "not_paused")
    WebhookEndpoint.objects.filter(pk=body["id"]).update(status=WebhookEndpoint.Status.PAUSED, failures_in_a_row=9)
    resumed = api_team.api().post(f"{base}resume/")
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert resumed.json()["failures_in_a_row"] == 0

    assert api_team.api().delete(base).status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=body["id"]).exists()
