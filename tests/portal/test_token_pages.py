"""The Tokens page and the admin's tokens: expiry, scope, last use, the week-ahead warning, team tokens."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portal.actors import Actor
from portal.models import ApiToken, AuditEntry
from portal.services import api_token_create, membership_set
from tests.apiclient import Api
from tests.factories import make_staff, make_user
from tests.pages import error_summary_of

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_expiry_scope_and_last_use_of_each_token(team):
    token, key = api_token_create(actor=Actor.system("tests"), user=team.member, name="reader", read_only=True)
    Api(key).get("networks/", REMOTE_ADDR="198.51.100.30")
    token.refresh_from_db()
    page = signed_in(team.member).get("/tokens/").content.decode()
    row = page[page.index('<td data-label="Name">reader</td>') :].split("</tr>")[0]
    assert "read-only" in row
    assert f"{token.expires:%Y-%m-%d %H:%M}" in row
    assert f"{token.last_used:%Y-%m-%d %H:%M} from 198.51.100.30" in row
    assert "expires in" not in row and "data-token-warnings" not in page


def test_a_week_ahead_the_page_and_the_dashboard_warn(team):
    token, _ = api_token_create(actor=Actor.system("tests"), user=team.member, name="nightly", expires=5)
    far, _ = api_token_create(actor=Actor.system("tests"), user=team.member, name="calm", expires=30)
    client = signed_in(team.member)
    page = client.get("/tokens/").content.decode()
    warning = page[page.index("data-token-warnings") :].split("</div>")[0]
    assert "nightly" in warning and f"{token.expires:%Y-%m-%d}" in warning and "calm" not in warning
    row = page[page.index('<td data-label="Name">nightly</td>') :].split("</tr>")[0]
    assert 'class="badge expiring"' in row
    dashboard = client.get("/").content.decode()
    assert "data-token-warnings" in dashboard and "nightly" in dashboard
    # An expired token is named as such, and warned about no more.
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(minutes=1))
    page = client.get("/tokens/").content.decode()
    assert "data-token-warnings" not in page
    assert ">expired<" in page[page.index('<td data-label="Name">nightly</td>') :].split("</tr>")[0]


def test_owners_make_team_tokens_on_the_page_and_every_owner_sees_and_revokes_them(team, other_team):
    client = signed_in(team.owner)
    day = (timezone.now() + timedelta(days=20)).date().isoformat()
    made = client.post(
        "/tokens/",
        {"action": "create", "name": "ci", "team": team.tenant.pk, "role": "member", "expires": day},
    )
    assert made.status_code == 200, error_summary_of(made.content.decode())
    token = ApiToken.objects.get(name="ci")
    assert token.tenant == team.tenant and token.role == "member" and token.user is None
    assert f"{token.expires:%Y-%m-%d}" == day and token.created_by == team.owner
    assert Api(made.context["new_key"]).post("networks/", {"name": "from-page"}).status_code == 202
    page = made.content.decode()
    assert "Team tokens" in page and f"{team.tenant.name} as member, read-write" in page
    # A member sees no team tokens and may not pick a team, nor revoke one.
    member_page = signed_in(team.member).get("/tokens/").content.decode()
    assert "Team tokens" not in member_page and 'name="team"' not in member_page
    refused = signed_in(team.member).post("/tokens/", {"action": "revoke", "token": token.pk})
    assert refused.status_code == 404
    refused = signed_in(other_team.owner).post(
        "/tokens/", {"action": "create", "name": "steal", "team": team.tenant.pk, "role": "member"}
    )
    assert refused.status_code == 400 and "Choose one of the teams you own" in refused.content.decode()
    # Another owner sees it and revokes it.
    second_owner = make_user(f"{team.tenant.slug}-second-owner")
    membership_set(tenant=team.tenant, user=second_owner, role="owner")
    second = signed_in(second_owner)
    assert '<td data-label="Name">ci</td>' in second.get("/tokens/").content.decode()
    second.post("/tokens/", {"action": "revoke", "token": token.pk})
    token.refresh_from_db()
    assert token.revoked is not None
    assert AuditEntry.objects.filter(action="token.revoke", tenant=team.tenant, object_id=str(token.pk)).exists()


@pytest.mark.parametrize(
    "fields, sentence",
    [
        ({"expires": "2020-01-01"}, "has passed"),
        ({"expires": "2999-01-01"}, "past the longest a token may work"),
        ({"expires": "someday"}, "Enter a date as YYYY-MM-DD."),
        ({"team": "TEAM", "role": ""}, "Choose the team token&#x27;s role"),
    ],
)
def test_bad_input_on_the_page_is_a_sentence_on_the_form(team, fields, sentence):
    fields = {k: team.tenant.pk if v == "TEAM" else v for k, v in fields.items()}
    answer = signed_in(team.owner).post("/tokens/", {"action": "create", "name": "x", **fields})
    assert answer.status_code == 400 and sentence in answer.content.decode()
    assert not ApiToken.objects.filter(name="x").exists()


def test_the_admin_makes_team_tokens_and_shows_the_runtime_fields_read_only(team):
    client = signed_in(make_staff("root"))
    refused = client.post(
        "/admin/portal/apitoken/add/",
        {"tenant": team.tenant.pk, "role": "", "name": "bad", "expires_0": "", "expires_1": ""},
    )
    assert refused.status_code == 200 and "A token belongs to a user, or to a team" in refused.content.decode()
    refused = client.post(
        "/admin/portal/apitoken/add/",
        {"user": team.member.pk, "name": "old", "expires_0": "2020-01-01", "expires_1": "00:00:00"},
    )
    assert refused.status_code == 200 and "has passed" in refused.content.decode()
    answer = client.post(
        "/admin/portal/apitoken/add/",
        {"tenant": team.tenant.pk, "role": "viewer", "name": "ci", "read_only": "on", "expires_0": "", "expires_1": ""},
        follow=True,
    )
    assert answer.status_code == 200
    token = ApiToken.objects.get(name="ci")
    assert token.tenant == team.tenant and token.role == "viewer" and token.read_only and token.expires
    change = client.get(f"/admin/portal/apitoken/{token.pk}/change/").content.decode()
    for label in ("Last used address", "Expires", "Created by", "Read only"):
        assert label in change
    assert 'name="expires_0"' not in change and 'name="read_only"' not in change  # read-only there
    listing = client.get("/admin/portal/apitoken/").content.decode()
    assert team.tenant.name in listing
