"""The API's identities from memory (portal/identity_cache.py): a token's second request reads neither
its token nor its membership, and every change of who may do what takes effect on the very next
request, whichever way it is made: the services, the admin, a QuerySet.update(). Expiry is still
checked against the clock, and a token's last use is still recorded."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from portal import identity_cache
from portal.accounts import user_deactivate
from portal.actors import Actor
from portal.models import ApiToken, Membership
from portal.services import api_token_revoke, membership_remove, membership_role_change
from tests.factories import make_staff, make_team
from tests.support import query_counts

# The bumps wait for their transaction's commit, so these tests commit theirs.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def remembered():
    identity_cache.forget()
    cache.clear()
    with override_settings(API_IDENTITY_CACHE=True):
        yield
    identity_cache.forget()
    cache.clear()


@pytest.fixture
def team():
    return make_team(api=True)


def api(team, role: str = "owner", *, key: str | None = None) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {key or team.keys[role]}")


def token_of(team, role: str) -> ApiToken:
    return ApiToken.objects.get(user=team.users[role])


def membership_of(team, role: str) -> Membership:
    return Membership.objects.get(user=team.users[role], tenant=team.tenant)


def test_the_second_request_reads_neither_token_nor_membership(team):
    client = api(team)
    counts = query_counts(
        {"first": lambda: client.get("/api/v1/networks/"), "second": lambda: client.get("/api/v1/networks/")}
    )
    (first_status, first), (second_status, second) = counts["first"], counts["second"]
    assert first_status == second_status == 200
    assert second == first - 3  # the token, the membership, and the token's last use written once


def test_without_the_setting_nothing_is_kept(team):
    client = api(team)
    with override_settings(API_IDENTITY_CACHE=False):
        client.get("/api/v1/networks/")
        counts = query_counts({"again": lambda: client.get("/api/v1/networks/")})
    client.get("/api/v1/networks/")  # kept from here on
    assert counts["again"][1] == query_counts({"cached": lambda: client.get("/api/v1/networks/")})["cached"][1] + 2


def staff_admin() -> Client:
    admin = Client()
    admin.force_login(make_staff("boss"))
    return admin


def revoke(team, role):
    api_token_revoke(actor=Actor.system("tests"), token=token_of(team, role))


def revoke_in_the_admin(team, role):
    token = token_of(team, role)
    response = staff_admin().post("/admin/portal/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302


def revoke_by_update(team, role):
    ApiToken.objects.filter(user=team.users[role]).update(revoked=timezone.now())


def expire_by_update(team, role):
    ApiToken.objects.filter(user=team.users[role]).update(expires=timezone.now() - timedelta(minutes=1))


def remove(team, role):
    membership_remove(actor=Actor.system("tests"), membership=membership_of(team, role))


def remove_in_the_admin(team, role):
    membership = membership_of(team, role)
    response = staff_admin().post(f"/admin/portal/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302


def remove_by_queryset_delete(team, role):
    Membership.objects.filter(user=team.users[role]).delete()


def move_by_update(team, role):
    Membership.objects.filter(user=team.users[role]).update(tenant=make_team().tenant)


def deactivate(team, role):
    user_deactivate(actor=Actor.system("tests"), user=team.users[role])


def deactivate_in_the_admin(team, role):
    assert staff_admin().post(f"/admin/auth/user/{team.users[role].pk}/deactivate/").status_code == 302


def save_inactive(team, role):
    """A user's save (is_active in the admin's form, a password change) bumps too; the token is kept."""
    user = team.users[role]
    user.is_active = False
    user.save()


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (revoke, 401),
        (revoke_in_the_admin, 401),
        (revoke_by_update, 401),
        (expire_by_update, 401),
        (remove, 403),
        (remove_in_the_admin, 403),
        (remove_by_queryset_delete, 403),
        (move_by_update, 403),
        (deactivate, 401),
        (deactivate_in_the_admin, 401),
        (save_inactive, 401),
    ],
    ids=lambda value: value.__name__ if callable(value) else str(value),
)
def test_a_change_of_access_takes_effect_on_the_next_request(team, change, refusal):
    client = api(team, "member")
    headers = {"HTTP_X_TENANT": team.tenant.slug}
    assert client.get("/api/v1/networks/", **headers).status_code == 200
    assert client.get("/api/v1/networks/", **headers).status_code == 200  # from memory
    change(team, "member")
    assert client.get("/api/v1/networks/", **headers).status_code == refusal


def demote(membership):
    membership_role_change(actor=Actor.system("tests"), membership=membership, role="viewer")


def demote_in_the_admin(membership):
    form = {"user": membership.user_id, "tenant": membership.tenant_id, "role": "viewer", "source": membership.source}
    response = staff_admin().post(f"/admin/portal/membership/{membership.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]


def demote_by_update(membership):
    Membership.objects.filter(pk=membership.pk).update(role="viewer")


@pytest.mark.parametrize("change", [demote, demote_in_the_admin, demote_by_update], ids=lambda change: change.__name__)
def test_a_changed_role_takes_effect_on_the_next_request(team, change):
    client = api(team, "member")
    for _ in range(2):  # the second from memory
        created = client.post("/api/v1/networks/", {}, content_type="application/json")
        assert created.status_code == 400  # a member may try: the body is what is wrong
    change(membership_of(team, "member"))
    refused = client.post("/api/v1/networks/", {}, content_type="application/json")
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]["message"]


def test_a_remembered_token_is_refused_once_the_clock_passes_its_expiry(team):
    client = api(team)
    assert client.get("/api/v1/networks/").status_code == 200
    later = token_of(team, "owner").expires + timedelta(seconds=1)
    with mock.patch("portal.tokens.timezone.now", return_value=later):
        response = client.get("/api/v1/networks/")
    assert response.json()["error"]["code"] == "expired_token"


def test_a_renamed_team_is_not_reached_by_its_old_slug(team):
    client = api(team)
    assert client.get("/api/v1/networks/", HTTP_X_TENANT=team.tenant.slug).status_code == 200
    old = team.tenant.slug
    team.tenant.slug = f"{old}-renamed"
    team.tenant.save()
    assert client.get("/api/v1/networks/", HTTP_X_TENANT=old).status_code == 403


def test_the_last_use_is_still_recorded_and_bumps_nothing(team):
    client = api(team)
    client.get("/api/v1/networks/")
    first = token_of(team, "owner").last_used
    later = timezone.now() + timedelta(minutes=2)
    with mock.patch("portal.tokens.timezone.now", return_value=later):
        counts = query_counts({"later": lambda: client.get("/api/v1/networks/")})
    assert token_of(team, "owner").last_used == later > first
    assert counts["later"][1] == query_counts({"now": lambda: client.get("/api/v1/networks/")})["now"][1] + 1


def test_a_cache_that_does_not_answer_means_the_database_every_time(team):
    client = api(team)
    client.get("/api/v1/networks/")
    from redis.exceptions import ConnectionError as RedisConnectionError

    with mock.patch.object(cache, "get_many", side_effect=RedisConnectionError("down")):
        counts = query_counts(
            {"a": lambda: client.get("/api/v1/networks/"), "b": lambda: client.get("/api/v1/networks/")}
        )
    assert counts["a"] == counts["b"]
    assert counts["a"][1] == query_counts({"up": lambda: client.get("/api/v1/networks/")})["up"][1] + 2


def test_a_lost_generation_starts_again_at_a_number_no_entry_has(team):
    client = api(team)
    client.get("/api/v1/networks/")
    before = cache.get(identity_cache.GENERATION_KEY)
    cache.delete(identity_cache.GENERATION_KEY)
    client.get("/api/v1/networks/")  # reads the database, and starts the generation again
    after = cache.get(identity_cache.GENERATION_KEY)
    assert after is not None and after != before


def test_another_process_sees_the_change_through_the_generation(team):
    """This process forgets at once what it bumps; another one only sees the generation move."""
    client = api(team)
    assert client.get("/api/v1/networks/").status_code == 200
    before = cache.get(identity_cache.GENERATION_KEY)
    with mock.patch("portal.identity_cache.forget"):  # as if the revocation were made elsewhere
        api_token_revoke(actor=Actor.system("tests"), token=token_of(team, "owner"))
    assert cache.get(identity_cache.GENERATION_KEY) == before + 1
    assert client.get("/api/v1/networks/").status_code == 401


def test_one_bump_per_transaction_unless_a_savepoint_could_drop_it(team):
    from django.db import transaction

    user = team.users["member"]
    with mock.patch("portal.identity_cache._bump") as bump:
        with transaction.atomic():
            user.save()
            user.save()
        assert bump.call_count == 1
        with transaction.atomic():
            with transaction.atomic():
                user.save()  # its bump would go if this savepoint were rolled back
            user.save()
        assert bump.call_count == 3


# --- a signed-in person's pages ---------------------------------------------------------------------


def signed_in(team, role: str = "member") -> Client:
    browser = Client()
    browser.force_login(team.users[role])
    return browser


def test_a_pages_second_request_reads_neither_membership_nor_the_switcher(team):
    browser = signed_in(team)
    counts = query_counts({"first": lambda: browser.get("/networks/"), "second": lambda: browser.get("/networks/")})
    (first_status, first), (second_status, second) = counts["first"], counts["second"]
    assert first_status == second_status == 200
    assert second == first - 2  # the membership acted in, the memberships of the tenant switcher


@pytest.mark.parametrize(
    "change", [remove, remove_in_the_admin, remove_by_queryset_delete, move_by_update], ids=lambda c: c.__name__
)
def test_a_removed_membership_takes_effect_on_the_next_page(team, change):
    browser = signed_in(team)
    for _ in range(2):  # the second from memory
        assert browser.get("/networks/").status_code == 200
    change(team, "member")
    page = browser.get("/networks/")  # no team (403), or the team the membership moved to
    membership = page.context["membership"]
    assert page.status_code in (200, 403)
    assert membership is None or membership.tenant_id != team.tenant.pk


def test_a_new_membership_reaches_the_tenant_switcher_on_the_next_page(team):
    browser = signed_in(team)
    for _ in range(2):
        assert "Second team" not in browser.get("/networks/").content.decode()
    other = make_team("Second team")
    Membership.objects.create(user=team.users["member"], tenant=other.tenant, role="viewer")
    assert "Second team" in browser.get("/networks/").content.decode()


def test_a_demoted_member_sees_no_create_link_on_the_next_page(team):
    browser = signed_in(team)
    for _ in range(2):
        assert browser.get("/networks/").context["can_change"]
    demote_by_update(membership_of(team, "member"))
    assert not browser.get("/networks/").context["can_change"]
