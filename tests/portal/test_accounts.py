"""Leaving and local sign-in: staff deactivate a person in one click (sessions ended at once, personal
tokens revoked, an audit entry each), and LOCAL_LOGIN=staff-only keeps passwords for staff."""

from __future__ import annotations

from django.test import Client

from portal.accounts import user_deactivate
from portal.actors import Actor
from portal.models import ApiToken, AuditEntry
from portal.services import api_token_create
from tests.factories import PASSWORD, make_staff, make_user


def signed_in(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_deactivating_ends_sessions_and_revokes_tokens_with_an_audit_entry_each(db):
    person = make_user("leaver")
    browsers = [signed_in("leaver"), signed_in("leaver")]
    _, key = api_token_create(actor=Actor.command(), user=person, name="cli")
    api_token_create(actor=Actor.command(), user=person, name="ci")
    staff = make_staff("boss")
    done = user_deactivate(actor=Actor(user=staff, name="boss"), user=person)
    assert done == {"sessions": 2, "tokens": 2}
    for browser in browsers:
        assert browser.get("/members/").status_code == 302  # back to the login page
    assert not ApiToken.objects.filter(user=person, revoked__isnull=True).exists()
    assert Client().get("/api/v1/networks/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    actions = list(AuditEntry.objects.filter(actor="boss").values_list("action", flat=True))
    assert actions.count("token.revoke") == 2 and actions.count("user.deactivate") == 1
    assert Client().post("/login/", {"username": "leaver", "password": PASSWORD}).status_code == 200


def test_the_admin_button_deactivates_in_one_click(db):
    make_user("leaver")
    admin = signed_in_admin()
    page = admin.get(f"/admin/auth/user/{user_id('leaver')}/change/").content.decode()
    assert 'id="deactivate-user"' in page
    response = admin.post(f"/admin/auth/user/{user_id('leaver')}/deactivate/")
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="user.deactivate", object_repr="leaver").exists()
    assert admin.get(f"/admin/auth/user/{user_id('leaver')}/deactivate/").status_code == 405


def test_staff_cannot_deactivate_themselves(db):
    admin = signed_in_admin()
    response = admin.post(f"/admin/auth/user/{user_id('boss')}/deactivate/", follow=True)
    assert "You cannot deactivate your own account" in response.content.decode()
    assert admin.get("/admin/").status_code == 200
    assert not AuditEntry.objects.filter(action="user.deactivate").exists()


def test_the_admin_action_deactivates_several(db):
    make_user("one"), make_user("two")
    admin = signed_in_admin()
    ids = [user_id("one"), user_id("two")]
    admin.post("/admin/auth/user/", {"action": "deactivate", "_selected_action": ids})
    assert AuditEntry.objects.filter(action="user.deactivate").count() == 2


def signed_in_admin() -> Client:
    make_staff("boss")
    client = Client()
    client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    return client


def user_id(username: str) -> int:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username).pk


def test_staff_only_local_login_refuses_others_with_a_sentence(db, settings):
    settings.LOCAL_LOGIN = "staff-only"
    settings.OIDC_ENABLED, settings.OIDC_LABEL = True, "Example SSO"
    make_user("person")
    make_staff("boss")
    refused = Client().post("/login/", {"username": "person", "password": PASSWORD})
    assert refused.status_code == 200
    assert "Passwords here are for staff only. Sign in with Example SSO instead." in refused.content.decode()
    assert Client().post("/login/", {"username": "boss", "password": PASSWORD}).status_code == 302


def test_staff_keep_group_mappings_in_the_admin(db):
    from portal.models import SsoGroupMapping, Tenant

    tenant = Tenant.objects.create(name="Payments", slug="payments")
    admin = signed_in_admin()
    for page in ("/admin/portal/ssogroupmapping/add/", "/admin/portal/ssoidentity/", "/admin/portal/membership/"):
        assert admin.get(page).status_code == 200, page
    answer = admin.post(
        "/admin/portal/ssogroupmapping/add/", {"group": "payments-developers", "tenant": tenant.pk, "role": "member"}
    )
    assert answer.status_code == 302
    assert SsoGroupMapping.objects.get(group="payments-developers").tenant == tenant
    assert AuditEntry.objects.filter(action="admin.add", tenant=tenant).exists()
