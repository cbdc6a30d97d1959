"""The tenant's members, for owners only, with the rule that a tenant always keeps an owner."""

import pytest
from django.contrib.auth import get_user_model

from portal.models import Membership
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db
OWNERS_ONLY = "Only the tenant's owners can manage members and policies."


def test_only_owners_see_and_manage_members(team):
    for role in ("member", "viewer"):
        assert_error(team.api(role).get("members/"), 403, "permission_denied", message=OWNERS_ONLY)
        assert_error(team.api(role).post("members/", {"username": "x"}), 403, message=OWNERS_ONLY)
    names = {m["username"]: m["role"] for m in team.api().get("members/").json()["results"]}
    assert names == {user.username: role for role, user in team.users.items()}


def test_add_change_and_remove_a_member(team):
    get_user_model().objects.create_user(username="newcomer")
    added = team.api().post("members/", {"username": "newcomer", "role": "viewer"})
    assert added.status_code == 201 and added.json()["role"] == "viewer"
    pk = added.json()["id"]
    changed = team.api().patch(f"members/{pk}/", {"role": "member"})
    assert changed.status_code == 200 and changed.json()["role"] == "member"
    assert team.api().delete(f"members/{pk}/").status_code == 204
    assert not Membership.objects.filter(pk=pk).exists()


def test_adding_refusals(team):
    assert_error(team.api().post("members/", {"username": "ghost"}), 400, "no_such_user", field="username")
    assert_error(
        team.api().post("members/", {"username": team.users["viewer"].username}),
        409,
        "already_member",
        field="username",
    )
    get_user_model().objects.create_user(username="newcomer")
    assert_error(team.api().post("members/", {"username": "newcomer", "role": "boss"}), 400, field="role")
    assert_error(team.api().patch(f"members/{team.users['viewer'].memberships.get().pk}/", {}), 400, field="role")


def test_the_last_owner_stays(team, other_team):
    owner = Membership.objects.get(tenant=team.tenant, user=team.users["owner"])
    error = assert_error(team.api().patch(f"members/{owner.pk}/", {"role": "viewer"}), 409, "last_owner")
    assert "make someone else an owner" in error["message"]
    assert_error(team.api().delete(f"members/{owner.pk}/"), 409, "last_owner")
    other_owner = Membership.objects.get(tenant=other_team.tenant, role="owner")
    assert_error(team.api().delete(f"members/{other_owner.pk}/"), 404, message="No such member.")
