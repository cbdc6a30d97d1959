"""Single sign-on through the real local provider (scripts/oidc_provider.py): users found by issuer and
subject, memberships following the person's groups at each sign-in, manual memberships left alone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from portal.models import AuditEntry, Membership, SsoIdentity, Tenant
from tests.portal.sso.flows import begin, callback_path, sign_in

User = get_user_model()


def roles_of(username: str) -> dict[str, str]:
    return {
        m.tenant.slug: m.role
        for m in Membership.objects.filter(user__username=username, source=Membership.Source.PROVIDER)
    }


def test_the_login_page_offers_the_provider_above_the_local_form(client, sso):
    page = client.get("/login/").content.decode()
    assert "Sign in with the test provider" in page
    assert page.index("Sign in with the test provider") < page.index('name="password"')


def test_the_authorization_request_carries_state_nonce_and_pkce(client, sso):
    query = parse_qs(urlsplit(begin(client)).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert "groups" not in query["scope"][0] or True  # scopes come from OIDC_SCOPES
    assert query["redirect_uri"] == ["http://testserver/sso/callback/"]


def test_a_first_sign_in_makes_the_user_with_the_teams_of_their_groups(client, sso):
    response = sign_in(client, sso, "bob")
    assert response.status_code == 302 and response["Location"] == "/"
    bob = User.objects.get(username="bob")
    assert bob.email == "bob@example.com" and not bob.has_usable_password()
    assert SsoIdentity.objects.get(user=bob).subject == "bob"
    assert AuditEntry.objects.get(action="user.sso_create").details == {"issuer": sso.url, "subject": "bob"}
    assert roles_of("bob") == {"demo": "member", "payments": "viewer"}
    assert client.get("/members/").status_code == 200
    added = AuditEntry.objects.filter(action="membership.sso_add", user=bob)
    assert sorted(e.details["group"] for e in added) == ["payments-viewers", "platform-members"]


def test_groups_changed_at_the_provider_change_memberships_at_the_next_sign_in(client, sso):
    sign_in(client, sso, "bob")
    manual = Membership.objects.create(
        user=User.objects.get(username="bob"), tenant=Tenant.objects.create(name="Hand", slug="hand"), role="viewer"
    )
    sso.set_claims("bob", {"preferred_username": "bob", "groups": ["platform-owners"]})
    client.logout()
    assert sign_in(client, sso, "bob").status_code == 302
    assert roles_of("bob") == {"demo": "owner"}
    assert Membership.objects.filter(pk=manual.pk, role="viewer").exists()  # added by hand: left alone
    actions = set(AuditEntry.objects.filter(actor="bob").values_list("action", flat=True))
    assert {"membership.sso_role_change", "membership.sso_remove"} <= actions


def test_a_local_account_with_the_same_name_is_never_taken_over(client, sso):
    local = User.objects.create_user("alice", password="local-password-1")
    response = sign_in(client, sso, "alice")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] != str(local.pk)
    signed_in = User.objects.get(pk=client.session["_auth_user_id"])
    assert signed_in.username == "alice-2"
    assert not Membership.objects.filter(user=local).exists()
    messages = [str(m) for m in client.get("/").context["messages"]]
    assert any("alice belongs to another account" in m for m in messages)
    client.logout()
    sign_in(client, sso, "alice")  # the second time, the identity finds the same account
    assert client.session["_auth_user_id"] == str(signed_in.pk)


def test_no_mapped_group_gets_a_page_saying_whom_to_ask_and_no_account(client, sso):
    callback = sign_in(client, sso, "carol")
    assert callback.status_code == 302 and callback["Location"] == "/sso/no-team/"
    for _ in range(2):  # a reload says the same, not that the sign-in cannot be finished
        response = client.get("/sso/no-team/")
        assert response.status_code == 403
        assert "none of the groups" in response.content.decode()
    assert not User.objects.filter(username="carol").exists()
    assert "_auth_user_id" not in client.session
    # a browser that was refused nothing is sent to the login page
    client.logout()
    assert client.get("/sso/no-team/")["Location"] == "/login/"


def test_losing_every_group_removes_the_memberships_and_says_whom_to_ask(client, sso):
    sign_in(client, sso, "dave")
    client.logout()
    sso.set_claims("dave", {"preferred_username": "dave", "groups": []})
    assert sign_in(client, sso, "dave")["Location"] == "/sso/no-team/"
    response = client.get("/sso/no-team/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Payments: no owner" in page and "none of the groups" in page
    assert roles_of("dave") == {}
    assert "_auth_user_id" not in client.session
    # given a group again, the next sign-in goes through, and the refusal is not shown any more
    sso.set_claims("dave", {"preferred_username": "dave", "groups": ["payments-developers"]})
    assert sign_in(client, sso, "dave")["Location"] != "/sso/no-team/"
    assert client.get("/sso/no-team/")["Location"] == "/login/"


def test_sign_out_ends_the_session_at_the_provider_too(client, sso):
    sign_in(client, sso, "alice")
    response = client.post("/logout/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}" == sso.url and target.path == "/oauth2/end_session"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"] and query["id_token_hint"]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("role", ["owner", "member", "viewer"])
def test_sso_map_command_maps_and_unmaps(sso, role):
    from django.core.management import call_command

    call_command("sso_map", "--group", "ops", "--tenant", "payments", "--role", role)
    assert Tenant.objects.get(slug="payments").sso_mappings.get(group="ops").role == role
    call_command("sso_map", "--group", "ops", "--tenant", "payments", "--remove")
    assert not Tenant.objects.get(slug="payments").sso_mappings.filter(group="ops").exists()


def test_the_page_asked_for_comes_after_the_sign_in_but_never_another_site(client, sso, django_user_model):
    django_user_model.objects.create_user("someone")
    client.force_login(django_user_model.objects.get(username="someone"))  # another user's session first
    assert sign_in(client, sso, "bob", next_url="/members/")["Location"] == "/members/"
    client.logout()
    assert sign_in(client, sso, "bob", next_url="https://evil.example.com/")["Location"] == "/"


def test_the_token_request_proves_the_pkce_verifier_of_the_challenge(client, sso, monkeypatch):
    import base64
    import hashlib

    from portal.sso.backend import SsoBackend

    sent = {}
    real = SsoBackend.get_token
    monkeypatch.setattr(SsoBackend, "get_token", lambda self, payload: sent.update(payload) or real(self, payload))
    authorize = begin(client)
    challenge = parse_qs(urlsplit(authorize).query)["code_challenge"][0]
    client.get(callback_path(sso.authorize(authorize, "bob")))
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge
