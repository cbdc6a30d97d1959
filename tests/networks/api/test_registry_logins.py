"""/api/v1/registry-logins/: members read the team's logins, owners add, replace and remove them; the
password is write-only, and no answer, audit entry, log line or database column holds it in clear."""

import io

import pytest
from django.core.management import call_command

from networks.models import RegistryLogin
from networks.services.registries import registry_login_set
from portal.actors import Actor
from portal.models import AuditEntry
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db

PATH = "registry-logins/"
PASSWORD = "api-pw-4f0c2a"
OWNERS_ONLY = "Only the team's owners can add, replace or remove its registry logins."
BODY = {"registry": "Registry.Example.com:5000", "username": "ci", "password": PASSWORD}


def asked():
    """The entries of what the test asked through a page, the API, the admin or a command: the fixtures'
    own set-up (teams' tokens, networks, containers) goes through the services too, as "tests"."""
    return AuditEntry.objects.exclude(actor="tests")


def test_an_owner_adds_a_login_and_never_gets_the_password_back(team):
    response = team.api().post(PATH, BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "registry", "username", "created", "updated"}
    assert (body["registry"], body["username"]) == ("registry.example.com:5000", "ci")
    login = RegistryLogin.objects.get(pk=body["id"], tenant=team.tenant)
    for answer in (response, team.api("viewer").get(PATH), team.api("viewer").get(f"{PATH}{login.pk}/")):
        assert answer.status_code in (200, 201)
        assert PASSWORD not in answer.content.decode() and login.password_sealed not in answer.content.decode()
    entry = asked().get(action="registry_login.set")
    assert entry.user == team.users["owner"] and entry.token_name == "tests" and entry.tenant == team.tenant
    assert entry.details == {"registry": "registry.example.com:5000", "username": "ci"}


def test_replacing_a_login_keeps_one_row(team):
    first = team.api().post(PATH, {**BODY, "username": "old"}).json()
    second = team.api().post(PATH, {**BODY, "registry": "registry.example.com:5000", "username": "new"})
    assert second.status_code == 201 and second.json()["id"] == first["id"]
    assert RegistryLogin.objects.filter(tenant=team.tenant).count() == 1
    assert [item["username"] for item in team.api().get(PATH).json()["results"]] == ["new"]


def test_members_and_viewers_read_but_only_owners_change(team):
    login = registry_login_set(
        actor=Actor.system("tests"),
        tenant=team.tenant,
        registry="registry.example.com",
        username="ci",
        password=PASSWORD,
    )
    for role in ("member", "viewer"):
        listed = team.api(role).get(PATH)
        assert listed.status_code == 200 and [item["id"] for item in listed.json()["results"]] == [login.pk]
        assert_error(team.api(role).post(PATH, BODY), 403, "permission_denied", message=OWNERS_ONLY)
        assert_error(team.api(role).delete(f"{PATH}{login.pk}/"), 403, "permission_denied", message=OWNERS_ONLY)
    assert RegistryLogin.objects.count() == 1 and not asked().exists()


def test_an_owner_removes_a_login(team):
    login = registry_login_set(
        actor=Actor.system("tests"),
        tenant=team.tenant,
        registry="registry.example.com",
        username="ci",
        password=PASSWORD,
    )
    response = team.api().delete(f"{PATH}{login.pk}/")
    assert response.status_code == 204 and not response.content
    assert not RegistryLogin.objects.exists()
    entry = asked().get(action="registry_login.remove")
    assert entry.object_id == str(login.pk) and entry.details == {"registry": "registry.example.com", "username": "ci"}
    assert_error(team.api().delete(f"{PATH}{login.pk}/"), 404, "not_found", message="No such registry login.")


def test_another_teams_login_is_the_same_404_as_a_missing_one(team, other_team):
    theirs = registry_login_set(
        actor=Actor.system("tests"), tenant=other_team.tenant, registry="theirs.example.com", username="x", password="y"
    )
    for call in ("get", "delete"):
        foreign = getattr(team.api(), call)(f"{PATH}{theirs.pk}/")
        missing = getattr(team.api(), call)(f"{PATH}987654321/")
        assert_error(foreign, 404, "not_found", message="No such registry login.")
        assert foreign.json() == missing.json()
    assert RegistryLogin.objects.filter(pk=theirs.pk).exists()
    assert team.api().get(PATH).json()["results"] == []


@pytest.mark.parametrize(
    "body, status, code, field, message",
    [
        (
            {**BODY, "registry": "https://registry.example.com"},
            400,
            "bad_registry",
            "registry",
            '"https://registry.example.com" is not a registry address. Give it as images name it: host or host:port.',
        ),
        ({**BODY, "password": ""}, 400, "missing_login", "password", None),
        ({**BODY, "username": " "}, 400, "missing_login", "username", None),
        ({**BODY, "password": 42}, 400, None, "password", None),
        ({"registry": "registry.example.com", "username": "ci"}, 400, None, "password", None),
        ({**BODY, "email": "x@example.com"}, 400, "unknown_field", "email", None),
        ({**BODY, "registry": "r" * 256}, 400, None, "registry", None),
        ({**BODY, "password": "p" * 8193}, 400, None, "password", None),
    ],
)
def test_refusals_name_the_field_and_never_hold_the_password(team, body, status, code, field, message):
    response = team.api().post(PATH, body)
    assert_error(response, status, code, field=field, message=message)
    assert PASSWORD not in response.content.decode()
    assert not RegistryLogin.objects.exists() and not asked().exists()


def test_the_schema_has_the_password_write_only_and_never_in_an_answer(team):
    schema = team.api().get("schema/", {"format": "json"}).json()
    operations = schema["paths"]["/api/v1/registry-logins/"]
    assert set(operations) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/registry-logins/{id}/"]) == {"get", "delete"}
    request = schema["components"]["schemas"]["RegistryLoginCreateRequest"]
    assert request["properties"]["password"]["writeOnly"] is True
    assert set(request["required"]) == {"registry", "username", "password"}
    answer = schema["components"]["schemas"]["RegistryLogin"]
    assert set(answer["properties"]) == {"id", "registry", "username", "created", "updated"}


def test_the_password_is_nowhere_in_clear_after_the_api(team, caplog):
    """Every table (the audit log included) and every log line, after adding, replacing and listing by the API."""
    caplog.set_level("DEBUG")
    api = team.api()
    api.post(PATH, BODY)
    api.post(PATH, {**BODY, "password": PASSWORD + "-2"})
    api.post(PATH, {**BODY, "registry": "bad registry", "password": PASSWORD + "-3"})
    api.get(PATH)
    api.get(f"{PATH}{RegistryLogin.objects.get().pk}/")
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert "registry.example.com:5000" in dump.getvalue()
    assert PASSWORD not in dump.getvalue() and PASSWORD not in caplog.text
