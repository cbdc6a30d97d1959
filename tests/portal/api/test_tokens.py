"""Token rules against the live API (the DRF test client through the real authentication, roles and
throttles): expiry and its maximum, read-only tokens, and team tokens that act as their team with a role."""

import importlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from portal.actors import Actor
from portal.models import ApiToken, AuditEntry, Membership
from portal.services import api_token_create, membership_remove, membership_set
from tests.apiclient import Api, assert_error
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def made(response) -> dict:
    assert response.status_code == 201, response.content
    return response.json()


def lifetime_days(token: ApiToken, since=None) -> float:
    """How long the token works from when it was made (or `since`), in days, to the minute."""
    return round((token.expires - (since or token.created)) / timedelta(days=1), 3)


def team_token(team, role: str, **kwargs) -> tuple[ApiToken, str]:
    return api_token_create(actor=Actor.system("tests"), name=f"ci-{role}", team=team.tenant, role=role, **kwargs)


# --- expiry -----------------------------------------------------------------------------------


def test_a_new_token_expires_after_the_default_days_unless_told(team, settings):
    body = made(team.api().post("tokens/", {"name": "cli"}))
    token = ApiToken.objects.get(pk=body["id"])
    assert lifetime_days(token) == settings.API_TOKEN_DEFAULT_DAYS
    assert body["expires"] and body["read_only"] is False and body["tenant"] is None and body["role"] == ""
    in_ten = ApiToken.objects.get(pk=made(team.api().post("tokens/", {"name": "ten", "expires": 10}))["id"])
    assert lifetime_days(in_ten) == 10
    day = (timezone.now() + timedelta(days=30)).date()
    on_day = made(team.api().post("tokens/", {"name": "dated", "expires": day.isoformat()}))
    assert on_day["expires"].startswith(f"{day.isoformat()}T00:00:00")
    assert made(team.api().post("tokens/", {"name": "text", "expires": "7"}))["expires"]


@pytest.mark.parametrize(
    "expires, code",
    [
        (0, "expiry_in_past"),
        (-3, "expiry_in_past"),
        (366, "expiry_too_far"),
        (10**9, "expiry_too_far"),
        ("999999999", "expiry_too_far"),
        ("2020-01-01", "expiry_in_past"),
        ("2026-02-30", "bad_expiry"),
        ("9999-12-31", "expiry_too_far"),
        ("tomorrow", "bad_expiry"),
        ("never", "expiry_required"),
        (True, "invalid"),
        (4.5, "invalid"),
        ([], "invalid"),
        ({"days": 3}, "invalid"),
        ("1" * 100, "invalid"),
    ],
)
def test_nonsense_expiries_are_400s_on_the_field(team, expires, code):
    error = assert_error(team.api().post("tokens/", {"name": "x", "expires": expires}), 400, code, field="expires")
    assert error["message"].endswith(".")
    assert not ApiToken.objects.filter(name="x").exists()


def test_the_maximum_comes_from_the_setting_and_zero_allows_never(team, settings):
    settings.API_TOKEN_MAX_DAYS = 30
    error = assert_error(team.api().post("tokens/", {"name": "x", "expires": 31}), 400, "expiry_too_far")
    assert "from 1 to 30" in error["message"]
    default = ApiToken.objects.get(pk=made(team.api().post("tokens/", {"name": "short"}))["id"])
    assert lifetime_days(default) == 30  # the default is cut to fit
    settings.API_TOKEN_MAX_DAYS = 0
    forever = made(team.api().post("tokens/", {"name": "forever", "expires": "never"}))
    assert forever["expires"] is None and forever["is_active"]
    assert Api(forever["key"]).get("networks/").status_code == 200
    assert made(team.api().post("tokens/", {"name": "long", "expires": 3650}))["expires"]


def test_an_expired_token_is_a_401_naming_the_day_and_is_not_counted_as_a_guess(team, settings):
    key = made(team.api().post("tokens/", {"name": "old"}))["key"]
    ApiToken.objects.filter(name="old").update(expires=datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
    attacker = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(settings.API_TOKEN_FAILURE_LIMIT + 2):
        assert_error(
            Api(key).get("networks/", **attacker),
            401,
            "expired_token",
            message="This API token expired on 2026-01-31 at 12:00 UTC. Create a new one on the Tokens page.",
        )
    assert team.api().get("networks/", **attacker).status_code == 200  # not locked out: it was no guess
    listed = {t["name"]: t for t in team.api().get("tokens/").json()["results"]}
    assert listed["old"]["is_active"] is False and listed["old"]["revoked"] is None


def test_tokens_made_before_expiry_existed_expire_after_the_migration(team):
    ApiToken.objects.update(expires=None)
    revoked = ApiToken.objects.get(user=team.viewer)
    revoked.revoked = timezone.now()
    revoked.save()
    migration = importlib.import_module("portal.migrations.0004_token_expiry_scope_team")
    before = timezone.now()
    migration.expire_existing_tokens(apps, None)
    live = ApiToken.objects.get(user=team.owner)
    assert lifetime_days(live, since=before) == 90
    assert ApiToken.objects.get(pk=revoked.pk).expires is None


# --- read-only tokens -------------------------------------------------------------------------


def test_a_read_only_token_reads_and_is_refused_every_change(team):
    body = made(team.api().post("tokens/", {"name": "reader", "read_only": True}))
    assert body["read_only"] is True
    reader = Api(body["key"])
    network = team.network()
    membership = Membership.objects.get(user=team.member)
    assert reader.get("networks/").status_code == 200
    assert reader.get(f"networks/{network.pk}/").status_code == 200
    assert reader._call("options", "networks/").status_code == 200
    assert reader._call("head", "networks/").status_code == 200
    for refused in (
        reader.post("networks/", {"name": "x"}),
        reader.patch(f"members/{membership.pk}/", {"role": "viewer"}),
        reader.delete(f"networks/{network.pk}/"),
        reader.post("tokens/", {"name": "escape"}),
    ):
        assert_error(refused, 403, "read_only_token", message="This token can only read.", field=None)
    membership.refresh_from_db()
    assert membership.role == "member" and not ApiToken.objects.filter(name="escape").exists()
    network.refresh_from_db()  # still there


def test_read_only_takes_only_a_boolean(team):
    assert_error(team.api().post("tokens/", {"name": "x", "read_only": "yes"}), 400, "invalid", field="read_only")


def test_last_use_records_the_time_and_address(team):
    key = made(team.api().post("tokens/", {"name": "where"}))["key"]
    Api(key).get("networks/", REMOTE_ADDR="198.51.100.20")
    token = ApiToken.objects.get(name="where")
    assert token.last_used is not None and token.last_used_address == "198.51.100.20"
    Api(key).get("networks/", REMOTE_ADDR="198.51.100.21")  # within the minute, but from elsewhere
    token.refresh_from_db()
    assert token.last_used_address == "198.51.100.21"


# --- team tokens ------------------------------------------------------------------------------


def test_a_team_token_acts_with_its_role_viewer_reads_member_changes(team):
    viewer = Api(team_token(team, "viewer")[1])
    member = Api(team_token(team, "member")[1])
    assert viewer.get("networks/").status_code == 200
    refused = assert_error(viewer.post("networks/", {"name": "from-ci"}), 403, "permission_denied")
    assert refused["message"].startswith("This team token is a viewer: it only reads.")
    accepted = member.post("networks/", {"name": "from-ci"})
    assert accepted.status_code == 202, accepted.content
    network = team.tenant.networks.get(name="from-ci")
    assert network.created_by is None
    assert_error(member.get("members/"), 403, "permission_denied")  # owners only: never a team token
    assert_error(member.get("audit/"), 403, "permission_denied")
    assert_error(member.post("clusters/", {}), 403)  # staff only
    # A read-only member token reads only.
    read_only = Api(team_token(team, "member", read_only=True)[1])
    assert_error(read_only.post("networks/", {"name": "x"}), 403, "read_only_token")


def test_a_team_tokens_changes_are_in_the_audit_log_under_its_name(team):
    token, key = team_token(team, "member")
    assert Api(key).post("networks/", {"name": "audited"}, REMOTE_ADDR="192.0.2.50").status_code == 202
    entry = AuditEntry.objects.get(action="network.create")
    assert entry.actor == token.name and entry.user is None and entry.tenant == team.tenant
    assert entry.token_name == token.name and entry.token_prefix == token.prefix and entry.address == "192.0.2.50"
    rows = team.api().get("audit/", {"user": token.name}).json()["results"]
    assert [row["action"] for row in rows] == ["network.create"]


def test_a_team_token_reaches_its_team_only(team, other_team):
    key = team_token(team, "member")[1]
    theirs = other_team.network()
    assert_error(Api(key).get(f"networks/{theirs.pk}/"), 404, "not_found")
    refused = assert_error(Api(key, tenant=other_team.tenant.slug).get("networks/"), 403, "permission_denied")
    assert team.tenant.slug in refused["message"]
    assert Api(key, tenant=team.tenant.slug).get("networks/").status_code == 200
    # Even an owner's membership of the other team made under the token's name gives it nothing.
    membership_set(tenant=other_team.tenant, user=make_user(f"ci-member-{other_team.tenant.slug}"), role="owner")
    assert_error(Api(key, tenant=other_team.tenant.slug).get("networks/"), 403)


def test_a_team_token_manages_no_tokens(team):
    key = team_token(team, "member")[1]
    for refused in (Api(key).get("tokens/"), Api(key).post("tokens/", {"name": "more"})):
        assert_error(refused, 403, "permission_denied")


def test_idempotency_keys_work_for_a_team_token(team):
    member = Api(team_token(team, "member")[1])
    first = member.post("networks/", {"name": "once"}, headers={"Idempotency-Key": "k1"})
    again = member.post("networks/", {"name": "once"}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]


def test_owners_make_team_tokens_by_api_and_they_survive_their_maker(team):
    second_owner = make_user(f"{team.tenant.slug}-second-owner")
    membership_set(tenant=team.tenant, user=second_owner, role="owner")
    maker = Api(api_token_create(actor=Actor.system("tests"), user=second_owner, name="mine")[1])
    body = made(maker.post("tokens/", {"name": "ci", "tenant": team.tenant.slug, "role": "member", "expires": 30}))
    assert body["tenant"] == team.tenant.slug and body["role"] == "member"
    assert body["created_by"] == second_owner.username
    entry = AuditEntry.objects.get(action="token.create", object_id=str(body["id"]))
    assert entry.tenant == team.tenant and entry.details["role"] == "member"
    # The first owner sees it among their team's tokens; the member sees nothing of it.
    assert body["id"] in [t["id"] for t in team.api().get("tokens/").json()["results"]]
    assert body["id"] not in [t["id"] for t in team.api("member").get("tokens/").json()["results"]]
    assert_error(team.api("member").delete(f"tokens/{body['id']}/"), 404)
    # Its maker leaves the team, then the portal: the token keeps working as the team.
    membership_remove(actor=Actor.system("tests"), membership=Membership.objects.get(user=second_owner))
    assert Api(body["key"]).post("networks/", {"name": "after"}).status_code == 202
    second_owner.delete()
    token = ApiToken.objects.get(pk=body["id"])
    assert token.created_by is None and token.is_active
    assert Api(body["key"]).get("networks/").status_code == 200
    # Any owner revokes it.
    revoked = team.api().delete(f"tokens/{body['id']}/")
    assert revoked.status_code == 200 and revoked.json()["revoked"]
    assert_error(Api(body["key"]).get("networks/"), 401, "revoked_token")
    assert AuditEntry.objects.get(action="token.revoke", object_id=str(body["id"])).tenant == team.tenant


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({"tenant": "SLUG", "role": "owner"}, 400, "invalid_choice", "role"),
        ({"tenant": "SLUG"}, 400, "bad_role", "role"),
        ({"role": "member"}, 400, "team_required", "tenant"),
        ({"tenant": "no-such-team", "role": "member"}, 404, "not_found", "tenant"),
        ({"tenant": 5, "role": "member"}, 400, "invalid", "tenant"),
    ],
)
def test_bad_team_token_requests_are_refused_on_their_field(team, body, status, code, field):
    body = {"name": "x", **{k: team.tenant.slug if v == "SLUG" else v for k, v in body.items()}}
    assert_error(team.api().post("tokens/", body), status, code, field=field)


def test_members_and_strangers_cannot_make_team_tokens(team, other_team):
    asked = {"name": "x", "tenant": team.tenant.slug, "role": "viewer"}
    assert_error(team.api("member").post("tokens/", asked), 403, "owners_only", field="tenant")
    assert_error(other_team.api().post("tokens/", asked), 404, "not_found", field="tenant")
    assert not ApiToken.objects.filter(name="x").exists()


# --- the command ------------------------------------------------------------------------------


def test_the_command_takes_expiry_read_only_and_makes_team_tokens(team):
    out = io.StringIO()
    call_command(
        "api_token_create", "--user", team.member.username, "--name", "ro", "--expires", "5", "--read-only", stdout=out
    )
    token = ApiToken.objects.get(name="ro")
    assert token.read_only and lifetime_days(token) == 5
    assert_error(Api(out.getvalue().strip()).post("networks/", {"name": "x"}), 403, "read_only_token")

    out = io.StringIO()
    call_command("api_token_create", "--tenant", team.tenant.slug, "--role", "viewer", "--name", "ci", stdout=out)
    token = ApiToken.objects.get(name="ci")
    assert token.tenant == team.tenant and token.role == "viewer" and token.user is None and token.created_by is None
    key = out.getvalue().strip()
    assert Api(key).get("networks/").status_code == 200
    assert_error(Api(key).post("networks/", {"name": "x"}), 403, "permission_denied")
    assert AuditEntry.objects.get(action="token.create", object_id=str(token.pk)).actor == "manage.py"


@pytest.mark.parametrize(
    "args, sentence",
    [
        (["--tenant", "SLUG"], "Choose the team token's role"),
        (["--user", "USER", "--role", "member"], "A role is for team tokens"),
        (["--user", "USER", "--tenant", "SLUG", "--role", "member"], "Give --user NAME"),
        ([], "Give --user NAME"),
        (["--user", "USER", "--expires", "100000"], "past the longest a token may work"),
        (["--user", "USER", "--expires", "soon"], "not a number of days or a date"),
        (["--tenant", "nobody", "--role", "member"], 'There is no team "nobody"'),
    ],
)
def test_the_command_refuses_bad_flags_with_a_sentence(team, args, sentence):
    args = [{"SLUG": team.tenant.slug, "USER": team.member.username}.get(a, a) for a in args]
    with pytest.raises(CommandError, match=sentence):
        call_command("api_token_create", *args, stdout=io.StringIO())
