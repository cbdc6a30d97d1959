"""The audit log from the pages, the admin and the command line: one entry per change, owners read their own."""

import csv
import io
import json

import pytest
from django.core.management import call_command

from networks.models import ClusterGrant, Container, Network
from portal.models import ApiToken, AuditEntry, Membership
from tests.factories import make_container, make_network, make_staff, make_team, make_user
from tests.pages import run_form

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.7"


def asked():
    """The entries of what the test asked through a page, the API, the admin or a command: the fixtures'
    own set-up (teams' tokens, networks, containers) goes through the services too, as "tests"."""
    return AuditEntry.objects.exclude(actor="tests")


def only_entry(action: str) -> AuditEntry:
    entries = list(asked().filter(action=action))
    assert len(entries) == 1, (action, [str(e) for e in asked().all()])
    return entries[0]


def assert_entry(entry: AuditEntry, *, user, tenant, obj=None, object_repr=None):
    assert entry.user == user and entry.actor == user.username
    assert entry.tenant == tenant and entry.tenant_name == tenant.name
    assert entry.address == ADDRESS
    if obj is not None:
        assert (entry.object_type, entry.object_id) == (obj._meta.label_lower, str(obj.pk))
    if object_repr is not None:
        assert entry.object_repr == object_repr


def test_network_changes_leave_one_entry_each(client, team, other_team):
    client.force_login(team.member)
    response = client.post(
        "/networks/new/", {"cluster": team.cluster.pk, "name": "web", "prefixlen": 24}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302, response.content[:500]
    network = Network.objects.get(name="web")
    entry = only_entry("network.create")
    assert_entry(entry, user=team.member, tenant=team.tenant, obj=network, object_repr=str(network))
    assert entry.details["subnet"] == network.subnet and entry.details["operation"]

    Network.objects.filter(pk=network.pk).update(status=Network.Status.ACTIVE, docker_id="d" * 64)
    container = make_container(team, "app")
    client.post(f"/networks/{network.pk}/connect/", {"container": container.pk}, REMOTE_ADDR=ADDRESS)
    assert_entry(only_entry("network.connect"), user=team.member, tenant=team.tenant, obj=network)
    client.post(f"/networks/{network.pk}/disconnect/{container.pk}/", REMOTE_ADDR=ADDRESS)
    assert_entry(only_entry("network.disconnect"), user=team.member, tenant=team.tenant, obj=network)

    ClusterGrant.objects.create(cluster=team.cluster, tenant=other_team.tenant)
    client.force_login(team.owner)
    client.post(f"/networks/{network.pk}/share/", {"tenant": other_team.tenant.pk}, REMOTE_ADDR=ADDRESS)
    shared = only_entry("network.share")
    assert_entry(shared, user=team.owner, tenant=team.tenant, obj=network)
    assert shared.details == {"with": other_team.tenant.slug}
    client.post(f"/networks/{network.pk}/unshare/{other_team.tenant.pk}/", REMOTE_ADDR=ADDRESS)
    assert_entry(only_entry("network.unshare"), user=team.owner, tenant=team.tenant, obj=network)

    spare = make_network(team, "spare")  # web still has operations under way, and a removal waits for them
    client.post(f"/networks/{spare.pk}/remove/", REMOTE_ADDR=ADDRESS)
    assert_entry(only_entry("network.remove"), user=team.owner, tenant=team.tenant, obj=spare)


def test_a_refused_change_leaves_no_entry(client, team):
    client.force_login(team.member)
    response = client.post("/networks/new/", {"cluster": team.cluster.pk, "name": "x", "prefixlen": 33})
    assert response.status_code == 400
    client.force_login(team.viewer)
    assert client.post("/networks/new/", {"cluster": team.cluster.pk, "name": "x", "prefixlen": 24}).status_code == 403
    assert not asked().exists()


def test_container_changes_leave_one_entry_each_and_no_secret_value(client, team):
    net = make_network(team, "mynetwork")
    client.force_login(team.member)
    response = client.post(
        "/containers/run/",
        run_form(team.cluster, env=[("MYSQL_ROOT_PASSWORD", "my-root-pw", True)], name="mysql", networks=[net.pk]),
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302, response.content[:500]
    run = only_entry("container.run")
    assert_entry(run, user=team.member, tenant=team.tenant, object_repr="mysql")
    assert run.object_type == "networks.container"

    container = make_container(team, "web")
    client.post(f"/containers/{container.pk}/stop/", REMOTE_ADDR=ADDRESS)
    assert_entry(only_entry("container.stop"), user=team.member, tenant=team.tenant, obj=container)

    every_value = json.dumps(list(asked().values()), default=str)
    assert "my-root-pw" not in every_value


def test_every_container_action_on_the_pages_leaves_one_entry(client, team):
    containers = {action: make_container(team, f"box-{action}") for action in ("stop", "start", "restart", "remove")}
    make_container(team, "done", status=Container.Status.EXITED)
    client.force_login(team.member)
    for action, container in containers.items():
        client.post(f"/containers/{container.pk}/{action}/", REMOTE_ADDR=ADDRESS)
        assert_entry(only_entry(f"container.{action}"), user=team.member, tenant=team.tenant, obj=container)
    client.post("/containers/remove-exited/", REMOTE_ADDR=ADDRESS)
    swept = only_entry("container.remove_exited")
    assert_entry(swept, user=team.member, tenant=team.tenant)
    assert len(swept.details["operations"]) == 1 and asked().count() == 5


def test_members_and_tokens_changes_leave_one_entry_each(client, team):
    newcomer = make_user("newcomer")
    client.force_login(team.owner)
    client.post("/members/", {"username": "newcomer", "role": "viewer"}, REMOTE_ADDR=ADDRESS)
    membership = Membership.objects.get(user=newcomer)
    added = only_entry("membership.add")
    assert_entry(added, user=team.owner, tenant=team.tenant, obj=membership)
    assert added.details == {"role": "viewer"}

    client.post(f"/members/{membership.pk}/", {"role": "member"}, REMOTE_ADDR=ADDRESS)
    assert only_entry("membership.role_change").details == {"from": "viewer", "to": "member"}
    client.post(f"/members/{membership.pk}/", {"action": "remove"}, REMOTE_ADDR=ADDRESS)
    removed = only_entry("membership.remove")
    assert_entry(removed, user=team.owner, tenant=team.tenant)
    assert removed.object_id == str(membership.pk) and "newcomer" in removed.object_repr

    page = client.post("/tokens/", {"name": "ci-deploy"}, REMOTE_ADDR=ADDRESS).content.decode()
    token = ApiToken.objects.get(name="ci-deploy")
    assert_entry(only_entry("token.create"), user=team.owner, tenant=team.tenant, obj=token)
    client.post("/tokens/", {"action": "revoke", "token": token.pk}, REMOTE_ADDR=ADDRESS)
    assert_entry(only_entry("token.revoke"), user=team.owner, tenant=team.tenant, obj=token)
    key = page.split('id="new-key" type="text" readonly value="')[1].split('"')[0]
    assert key.startswith("op_") and key not in json.dumps(list(asked().values()), default=str)


def test_the_address_behind_a_trusted_proxy_is_the_clients(client, team, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.force_login(team.owner)
    client.post("/tokens/", {"name": "cli"}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=ADDRESS)
    assert only_entry("token.create").address == ADDRESS


def test_commands_record_manage_py_and_no_user(team, other_team):
    call_command("cluster_grant", cluster=str(team.cluster.pk), tenant=other_team.tenant.slug, stdout=io.StringIO())
    entry = only_entry("cluster.grant")
    assert entry.user is None and entry.actor == "manage.py" and entry.address == ""
    assert entry.tenant == other_team.tenant and entry.object_id == str(team.cluster.pk)
    call_command("cluster_grant", cluster=str(team.cluster.pk), tenant=other_team.tenant.slug, revoke=True)
    assert only_entry("cluster.grant_revoke").tenant == other_team.tenant
    key = io.StringIO()
    call_command("api_token_create", user=team.owner.username, name="cron", stdout=key)
    entry = only_entry("token.create")
    assert entry.actor == "manage.py" and entry.details["for"] == team.owner.username
    assert key.getvalue().strip() not in json.dumps(list(asked().values()), default=str)


# --- the owners' page ---------------------------------------------------------------------------------


def test_owners_read_their_teams_log_only_and_others_get_403(client, team, other_team):
    for who in (team, other_team):
        client.force_login(who.owner)
        client.post("/tokens/", {"name": f"token-of-{who.tenant.slug}"})
    client.force_login(team.owner)
    page = client.get("/audit/")
    assert page.status_code == 200
    assert f"token-of-{team.tenant.slug}" in page.content.decode()
    assert f"token-of-{other_team.tenant.slug}" not in page.content.decode()
    assert b'href="/audit/"' in client.get("/").content  # linked in the nav for owners
    for user in (team.member, team.viewer):
        client.force_login(user)
        assert client.get("/audit/").status_code == 403
        assert client.get("/audit/export.csv").status_code == 403
        assert b'href="/audit/"' not in client.get("/").content


def test_the_page_filters_by_action_user_and_date_and_exports_csv(client, team):
    client.force_login(team.owner)
    client.post("/tokens/", {"name": "nightly-build"})
    client.post("/members/", {"username": make_user("someone").username, "role": "viewer"})
    created = asked().get(action="token.create").created.date().isoformat()
    assert "nightly-build" in client.get("/audit/", {"action": "token."}).content.decode()
    assert "nightly-build" not in client.get("/audit/", {"action": "membership."}).content.decode()
    assert "nightly-build" not in client.get("/audit/", {"user": "nobody"}).content.decode()
    assert "nightly-build" in client.get("/audit/", {"user": team.owner.username, "after": created}).content.decode()
    assert "nightly-build" not in client.get("/audit/", {"before": "2000-01-01"}).content.decode()
    assert client.get("/audit/", {"after": "not a date"}).status_code == 400

    response = client.get("/audit/export.csv", {"action": "token."})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["action"], row["actor"], row["object_repr"]) for row in rows] == [
        ("token.create", team.owner.username, str(ApiToken.objects.get(name="nightly-build")))
    ]


def test_the_date_filters_are_date_pickers_that_say_their_format(client, team):
    client.force_login(team.owner)
    page = client.get("/audit/", {"after": "2026-01-31"}).content.decode()
    assert '<input type="date" name="after" value="2026-01-31"' in page  # the browser's picker sends YYYY-MM-DD
    assert '<input type="date" name="before"' in page
    assert (
        '<div class="helptext" id="id_after_helptext">Entries from this day, as YYYY-MM-DD, such as 2026-01-31.</div>'
        in page
    )
    assert 'aria-describedby="id_after_helptext"' in page
    response = client.get("/audit/", {"after": "31/01/2026"})
    assert response.status_code == 400
    assert '<span class="error">Enter a date as YYYY-MM-DD.</span>' in response.content.decode()


# --- the admin ----------------------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return make_staff("auditor")


def test_admin_changes_are_recorded_with_the_tenant_and_address(client, team, staff):
    client.force_login(staff)
    tenant = team.tenant
    form = {
        "name": tenant.name,
        "slug": tenant.slug,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }  # allow_published_ports left out: unchecked
    response = client.post(f"/admin/portal/tenant/{tenant.pk}/change/", form, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302, response.content[:2000]
    entry = only_entry("tenant.policy_change")
    assert_entry(entry, user=staff, tenant=tenant, obj=tenant)
    assert entry.details["fields"] == ["Allow published ports"]

    membership = Membership.objects.get(user=team.viewer)
    response = client.post(f"/admin/portal/membership/{membership.pk}/delete/", {"post": "yes"}, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302
    deleted = only_entry("admin.delete")
    assert_entry(deleted, user=staff, tenant=tenant)
    assert deleted.object_id == str(membership.pk) and deleted.details == {"model": "portal.membership"}


def test_the_admin_shows_entries_read_only(client, team, staff):
    client.force_login(team.owner)
    client.post("/tokens/", {"name": "cli"})
    entry = asked().get()
    reader = make_user("reader")
    reader.is_staff = True  # staff without any permission still read the log
    reader.save()
    for user in (staff, reader):
        client.force_login(user)
        listing = client.get("/admin/portal/auditentry/", {"q": "cli"})
        assert listing.status_code == 200 and "token.create" in listing.content.decode()
        assert client.get(f"/admin/portal/auditentry/{entry.pk}/change/").status_code == 200  # the view page
        assert client.post(f"/admin/portal/auditentry/{entry.pk}/change/", {"action": "x"}).status_code == 403
        assert client.post(f"/admin/portal/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get("/admin/portal/auditentry/add/").status_code == 403
    entry.refresh_from_db()
    assert entry.action == "token.create" and asked().count() == 1


def test_entries_refuse_to_be_changed_or_deleted(team):
    entry = AuditEntry.objects.create(actor="x", action="thing.do", tenant=team.tenant)
    with pytest.raises(ValueError, match="never changed"):
        entry.save()
    with pytest.raises(ValueError, match="never deleted"):
        entry.delete()
    assert asked().filter(pk=entry.pk, action="thing.do").exists()


def test_another_teams_entries_stay_out_of_reach_even_with_their_id(client, team):
    other = make_team()
    client.force_login(other.owner)
    client.post("/tokens/", {"name": "secret-project"})
    client.force_login(team.owner)
    assert "secret-project" not in client.get("/audit/", {"user": other.owner.username}).content.decode()
    assert "secret-project" not in client.get("/audit/export.csv").content.decode()


def test_demo_setup_and_the_admins_revoke_action_are_recorded(client, staff):
    call_command("demo_setup", password="demo-pw-1", admin_password="admin-pw-1", stdout=io.StringIO())
    entry = only_entry("tenant.demo_setup")
    assert entry.actor == "manage.py" and entry.tenant.slug == "demo" and entry.details == {"owner": "demo"}
    token = ApiToken.objects.create(user=staff, name="old", prefix="op_x", key_hash="0" * 64)
    client.force_login(staff)
    response = client.post(
        "/admin/portal/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302
    revoked = only_entry("token.revoke")
    assert revoked.user == staff and revoked.tenant is None and revoked.address == ADDRESS
    assert "pw-1" not in json.dumps(list(asked().values()), default=str)
