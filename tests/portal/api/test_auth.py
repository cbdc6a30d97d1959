"""Tokens (shown once, hashed, revocable from the API, the portal page, the admin and a command),
the browser session, roles, and throttling per token."""

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from plumbing.api.errors import NOT_AUTHENTICATED
from portal.actors import Actor
from portal.models import ApiToken
from tests.apiclient import Api, assert_error

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_as_its_hash_and_marks_its_use(team):
    key = team.keys["owner"]
    token = ApiToken.objects.get(user=team.users["owner"])
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(token.prefix) and key not in str(ApiToken.objects.values())
    assert team.api().get("networks/").status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None


def test_wrong_and_revoked_tokens_are_401(team):
    assert_error(Api("op_not-a-real-key").get("networks/"), 401, "invalid_token")
    assert_error(Api("two words").get("networks/"), 401)
    created = team.api().post("tokens/", {"name": "ci"})
    assert created.status_code == 201, created.content
    key = created.json()["key"]
    assert Api(key).get("networks/").status_code == 200
    revoked = team.api().delete(f"tokens/{created.json()['id']}/")
    assert revoked.status_code == 200 and revoked.json()["revoked"] and not revoked.json()["is_active"]
    assert_error(
        Api(key).get("networks/"),
        401,
        "revoked_token",
        message="This API token was revoked. Create a new one on the Tokens page.",
    )


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer"])
def test_the_key_is_taken_as_token_or_bearer_and_another_scheme_is_left_to_the_session(team, scheme):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {team.keys['owner']}")
    assert client.get("/api/v1/networks/").status_code == 200
    # a proxy's Basic credentials: no token was sent, and the sentence says how to send one
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert_error(client.get("/api/v1/networks/"), 401, "not_authenticated", message=NOT_AUTHENTICATED)
    client.force_login(team.users["owner"])
    assert client.get("/api/v1/networks/").status_code == 200


def test_the_key_is_shown_once(team):
    created = team.api().post("tokens/", {"name": "deploy"}).json()
    assert created["key"].startswith(created["prefix"])
    listed = team.api().get("tokens/").json()["results"]
    assert all("key" not in item for item in listed)
    assert "key" not in team.api().get(f"tokens/{created['id']}/").json()


def test_token_name_is_required_with_a_sentence(team):
    assert_error(team.api().post("tokens/", {"name": " "}), 400, "name_required", field="name")


def test_the_browser_session_works_and_needs_csrf_to_change(team):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(team.users["owner"])
    assert client.get("/api/v1/networks/").status_code == 200
    refused = client.post("/api/v1/networks/", {"name": "x"}, format="json")
    assert_error(refused, 403, "permission_denied")
    assert "CSRF" in refused.json()["error"]["message"]


def test_x_tenant_picks_the_tenant_and_a_stranger_tenant_is_refused(team, other_team):
    from portal.services import membership_set

    owner = team.users["owner"]
    membership_set(tenant=other_team.tenant, user=owner, role="viewer")
    network = other_team.network()
    as_other = Api(team.keys["owner"], tenant=other_team.tenant.slug)
    assert as_other.get(f"networks/{network.pk}/").status_code == 200
    assert_error(as_other.post("networks/", {"name": "x"}), 403, "permission_denied")
    stranger = Api(team.keys["owner"], tenant="no-such-team")
    assert_error(stranger.get("networks/"), 403, "permission_denied")


def test_a_user_in_no_tenant_is_told_whom_to_ask(db):
    from portal.services import api_token_create

    user = get_user_model().objects.create_user(username="loner")
    key = api_token_create(actor=Actor.system("tests"), user=user, name="cli")[1]
    assert_error(
        Api(key).get("networks/"),
        403,
        message="You are not a member of any tenant. Ask an admin to add you to one.",
    )
    assert Api(key).get("tokens/").status_code == 200  # tokens are the user's, not a tenant's


def test_throttling_is_per_token(team):
    with override_settings(API_THROTTLE_RATE="3/minute"):
        owner = team.api()
        for _ in range(3):
            assert owner.get("clusters/").status_code == 200
        throttled = owner.get("clusters/")
        assert_error(throttled, 429, "throttled")
        assert int(throttled["Retry-After"]) > 0
        assert team.api("member").get("clusters/").status_code == 200  # another token, its own count


def test_the_management_command_prints_a_working_key(team, capsys):
    call_command("api_token_create", "--user", team.users["member"].username, "--name", "cli")
    key = capsys.readouterr().out.strip()
    assert Api(key).get("networks/").status_code == 200


# --- the portal page and the admin ------------------------------------------------------------


def test_the_tokens_page_creates_shows_once_and_revokes(team):
    from django.test import Client

    client = Client()
    client.force_login(team.users["viewer"])
    page = client.get("/tokens/")
    assert page.status_code == 200 and b"No tokens yet" not in page.content  # the fixture's token is listed
    made = client.post("/tokens/", {"action": "create", "name": "laptop"})
    assert made.status_code == 200
    token = ApiToken.objects.get(user=team.users["viewer"], name="laptop")
    key = made.context["new_key"]
    assert key.startswith(token.prefix) and key.encode() in made.content
    assert key.encode() not in client.get("/tokens/").content
    assert Api(key).get("networks/").status_code == 200
    assert client.post("/tokens/", {"action": "create", "name": ""}).status_code == 400
    client.post("/tokens/", {"action": "revoke", "token": token.pk})
    assert Api(key).get("networks/").status_code == 401
    other = ApiToken.objects.get(user=team.users["owner"])
    assert client.post("/tokens/", {"action": "revoke", "token": other.pk}).status_code == 404
    other.refresh_from_db()
    assert other.revoked is None


def test_the_admin_shows_the_key_once_and_revokes(team):
    from django.test import Client

    admin = get_user_model().objects.create_superuser(username="root", email="root@example.com", password="x")
    client = Client()
    client.force_login(admin)
    answer = client.post(
        "/admin/portal/apitoken/add/", {"user": team.users["member"].pk, "name": "from-admin"}, follow=True
    )
    assert answer.status_code == 200
    token = ApiToken.objects.get(name="from-admin")
    shown = [str(m) for m in answer.context["messages"]]
    key = next(word for m in shown for word in m.split() if word.startswith(token.prefix))
    assert Api(key).get("networks/").status_code == 200
    client.post(
        "/admin/portal/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert Api(key).get("networks/").status_code == 401


def test_wrong_tokens_from_one_address_are_stopped_with_a_429(team, settings):
    limit = settings.API_TOKEN_FAILURE_LIMIT
    attacker, honest = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.9"}
    for guess in range(limit):
        assert_error(Api(f"op_guess-{guess}").get("networks/", **attacker), 401, "invalid_token")
    refused = Api("op_one-more-guess").get("networks/", **attacker)
    error = assert_error(refused, 429, "too_many_bad_tokens", field=None)
    assert "Too many wrong API tokens came from your address" in error["message"]
    assert 0 < int(refused["Retry-After"]) <= settings.API_TOKEN_FAILURE_WINDOW
    # Even the right key is not looked at from that address until the wait is over...
    assert_error(team.api().get("networks/", **attacker), 429, "too_many_bad_tokens")
    # ...while another address keeps working, with its own count.
    assert team.api().get("networks/", **honest).status_code == 200
    assert_error(Api("op_typo").get("networks/", **honest), 401, "invalid_token")


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_counted(team, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for guess in range(settings.API_TOKEN_FAILURE_LIMIT):
        Api(f"op_guess-{guess}").get("networks/", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    assert Api("op_x").get("networks/", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code == 429
    assert team.api().get("networks/", HTTP_X_FORWARDED_FOR="198.51.100.9", **proxy).status_code == 200
