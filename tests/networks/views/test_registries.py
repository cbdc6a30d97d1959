"""The registry logins page: every member sees the team's logins, owners add, replace and remove them,
and a password never comes back out: not in the page, not in a form with an error, not in the audit log."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from networks.models import RegistryLogin
from networks.services.registries import registry_login_set
from portal.actors import Actor
from portal.models import AuditEntry
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PAGE = "/registries/"
PASSWORD = "page-pw-9d1e7c"
OWNERS_ONLY = "Only the team's owners can add, replace or remove its registry logins."


def asked():
    """The entries of what the test asked through a page, the API, the admin or a command: the fixtures'
    own set-up (teams' tokens, networks, containers) goes through the services too, as "tests"."""
    return AuditEntry.objects.exclude(actor="tests")


def login_for(team, registry="registry.example.com:5000", username="ci", password=PASSWORD) -> RegistryLogin:
    return registry_login_set(
        actor=Actor.system("tests"), tenant=team.tenant, registry=registry, username=username, password=password
    )


def assert_no_password(content: bytes | str, *, password: str = PASSWORD, sealed: str | None = None) -> None:
    text = content.decode() if isinstance(content, bytes) else content
    assert password not in text
    if sealed:
        assert sealed not in text


def test_every_role_sees_the_teams_logins_without_their_passwords(client, team, other_team):
    login = login_for(team)
    login_for(other_team, registry="theirs.example.com", username="their-user")
    sealed = RegistryLogin.objects.get(pk=login.pk).password_sealed
    for user in (team.viewer, team.member, team.owner):
        client.force_login(user)
        response = client.get(PAGE)
        page = response.content.decode()
        assert response.status_code == 200
        assert "registry.example.com:5000" in page and ">ci<" in page
        assert "theirs.example.com" not in page and "their-user" not in page
        assert 'href="/registries/" aria-current="page">Registry logins</a>' in page
        assert_no_password(page, sealed=sealed)
        can_change = user == team.owner
        assert ('name="password"' in page) == can_change
        assert (reverse("networks:registry_login_remove", args=[login.pk]) in page) == can_change


def test_an_owner_adds_a_login_and_the_audit_log_names_the_registry_and_user_only(client, team):
    client.force_login(team.owner)
    response = client.post(
        PAGE, {"registry": "Registry.Example.com:5000", "username": "ci", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Runs of images from registry.example.com:5000 now log in as ci." in page
    assert_no_password(page)
    login = RegistryLogin.objects.get(tenant=team.tenant)
    assert (login.registry, login.username) == ("registry.example.com:5000", "ci")
    entry = asked().get(action="registry_login.set")
    assert entry.user == team.owner and entry.tenant == team.tenant
    assert entry.details == {"registry": "registry.example.com:5000", "username": "ci"}
    assert (entry.object_type, entry.object_id) == ("networks.registrylogin", str(login.pk))
    assert_no_password(str(entry.__dict__), sealed=login.password_sealed)


def test_replacing_a_login_keeps_one_row(client, team):
    login_for(team, username="old", password="old-pw-1a2b")
    client.force_login(team.owner)
    response = client.post(PAGE, {"registry": "registry.example.com:5000", "username": "new", "password": PASSWORD})
    assert response.status_code == 302
    assert list(RegistryLogin.objects.filter(tenant=team.tenant).values_list("username", flat=True)) == ["new"]
    assert asked().filter(action="registry_login.set").count() == 1
    page = client.get(PAGE).content.decode()
    assert ">new<" in page and ">old<" not in page


@pytest.mark.parametrize(
    "form, sentence",
    [
        (
            {"registry": "https://registry.example.com", "username": "ci"},
            "&quot;https://registry.example.com&quot; is not a registry address. Give it as images name it: "
            "host or host:port.",
        ),
        ({"registry": "registry.example.com", "username": ""}, "Give both the user name and the password (or token)."),
        ({"registry": "x" * 300, "username": "ci"}, "This field takes at most 255 characters (it has 300)."),
    ],
)
def test_a_refused_form_keeps_what_was_typed_but_never_the_password(client, team, form, sentence):
    client.force_login(team.owner)
    response = client.post(PAGE, {**form, "password": PASSWORD})
    assert response.status_code == 400
    page = response.content.decode()
    assert sentence in page
    assert_no_password(page)
    assert 'type="password" name="password"' in page and 'value="' + PASSWORD not in page
    assert not RegistryLogin.objects.exists() and not asked().exists()


MARK = "pw-never-echoed-"


@settings(max_examples=40, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    registry=st.one_of(st.text(max_size=300), st.sampled_from(["", "\x00", "a" * 256, "host:99999", "UPPER.example"])),
    username=st.text(max_size=300),
    password=st.text(max_size=50),
)
def test_no_form_an_owner_posts_answers_500_or_echoes_the_password(client, team, registry, username, password):
    client.force_login(team.owner)
    response = client.post(PAGE, {"registry": registry, "username": username, "password": MARK + password})
    assert response.status_code in (302, 400), response.content[:1000]
    assert MARK not in response.content.decode()


def test_an_owner_removes_a_login(client, team):
    login = login_for(team)
    client.force_login(team.owner)
    response = client.post(reverse("networks:registry_login_remove", args=[login.pk]), follow=True)
    assert response.status_code == 200
    assert "The login to registry.example.com:5000 is removed" in response.content.decode()
    assert not RegistryLogin.objects.exists()
    entry = asked().get(action="registry_login.remove")
    assert entry.object_id == str(login.pk) and entry.object_repr == "ci@registry.example.com:5000"
    assert entry.details == {"registry": "registry.example.com:5000", "username": "ci"}


def test_members_and_viewers_only_read(client, team):
    login = login_for(team)
    for user in (team.member, team.viewer):
        client.force_login(user)
        added = client.post(PAGE, {"registry": "other.example.com", "username": "x", "password": PASSWORD})
        removed = client.post(reverse("networks:registry_login_remove", args=[login.pk]))
        for response in (added, removed):
            assert response.status_code == 403
            assert escape(OWNERS_ONLY) in response.content.decode()
    assert list(RegistryLogin.objects.values_list("registry", flat=True)) == ["registry.example.com:5000"]
    assert not asked().exists()


def test_another_teams_login_is_a_404(client, team, other_team):
    theirs = login_for(other_team)
    client.force_login(team.owner)
    assert client.post(reverse("networks:registry_login_remove", args=[theirs.pk])).status_code == 404
    assert client.post("/registries/987654321/remove/").status_code == 404
    assert client.get(reverse("networks:registry_login_remove", args=[theirs.pk])).status_code == 405
    assert RegistryLogin.objects.filter(pk=theirs.pk).exists()


def test_a_user_in_no_team_is_told_whom_to_ask(client, db):
    client.force_login(make_user("loner"))
    assert client.get(PAGE).status_code == 403


# --- the admin ------------------------------------------------------------------------------------


def test_the_admin_lists_and_deletes_logins_but_never_shows_a_password(client, team, staff):
    login = login_for(team)
    sealed = RegistryLogin.objects.get(pk=login.pk).password_sealed
    client.force_login(staff)
    listing = client.get("/admin/networks/registrylogin/")
    assert listing.status_code == 200
    assert "registry.example.com:5000" in listing.content.decode() and team.tenant.name in listing.content.decode()
    detail = client.get(f"/admin/networks/registrylogin/{login.pk}/change/")
    assert detail.status_code == 200 and "registry.example.com:5000" in detail.content.decode()
    for response in (listing, detail):
        assert_no_password(response.content, sealed=sealed)
        assert "password_sealed" not in response.content.decode() and "Password sealed" not in response.content.decode()
    assert client.get("/admin/networks/registrylogin/add/").status_code == 403
    assert client.post(f"/admin/networks/registrylogin/{login.pk}/change/", {"username": "x"}).status_code == 403

    response = client.post(f"/admin/networks/registrylogin/{login.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RegistryLogin.objects.exists()
    entry = asked().get(action="registry_login.remove")
    assert entry.user == staff and entry.tenant == team.tenant and entry.object_id == str(login.pk)


def test_the_password_is_nowhere_in_clear_after_the_page_and_the_admin(client, team, staff, caplog):
    """The whole database (every table, the audit log included) and the logs, after adding, listing and
    replacing a login by the page and looking at it in the admin."""
    caplog.set_level("DEBUG")
    client.force_login(team.owner)
    client.post(PAGE, {"registry": "registry.example.com", "username": "ci", "password": PASSWORD})
    client.post(PAGE, {"registry": "registry.example.com", "username": "ci", "password": PASSWORD + "-2"})
    client.post(PAGE, {"registry": "bad registry", "username": "ci", "password": PASSWORD + "-3"})
    client.get(PAGE)
    client.force_login(staff)
    client.get(f"/admin/networks/registrylogin/{RegistryLogin.objects.get().pk}/change/")
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert "registry.example.com" in dump.getvalue()
    assert PASSWORD not in dump.getvalue()
    assert PASSWORD not in caplog.text
