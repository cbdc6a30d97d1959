"""The audit log over the API: entries from token requests, owners' reads, filters, CSV, and no way to change one."""

import csv
import io
import json

from django.contrib.auth import get_user_model

from networks.models import ClusterGrant, Container
from portal.models import AuditEntry
from tests.apiclient import assert_error

ADDRESS = "203.0.113.9"
TOOLS = "overlay-portal/tools:latest"


def asked():
    """The entries of what the test asked through a page, the API, the admin or a command: the fixtures'
    own set-up (teams' tokens, networks, containers) goes through the services too, as "tests"."""
    return AuditEntry.objects.exclude(actor="tests")


def test_a_token_request_is_recorded_with_the_token_and_address(team):
    response = team.api("member").post("networks/", {"name": "web", "prefixlen": 24}, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 202, response.content
    entry = asked().get()
    token = team.users["member"].api_tokens.get()
    assert (entry.action, entry.user) == ("network.create", team.users["member"])
    assert entry.actor == team.users["member"].username
    assert (entry.token_name, entry.token_prefix, entry.address) == ("tests", token.prefix, ADDRESS)
    assert entry.tenant == team.tenant and entry.object_id == str(response.json()["network"])
    assert entry.object_type == "networks.network"


def test_container_and_operation_requests_leave_one_entry_each_and_no_secret(team):
    network = team.network("mynetwork")
    body = {
        "name": "mysql",
        "image": TOOLS,
        "networks": [{"network": "mynetwork"}],
        "environment": [{"name": "MYSQL_ROOT_PASSWORD", "value": "my-root-pw", "secret": True}],
    }
    assert team.api().post("containers/", body).status_code == 202
    container = team.container("app")
    for verb in ("stop", "start", "restart"):
        team.api().post(f"containers/{container.pk}/{verb}/")
    team.api().post(f"networks/{network.pk}/connect/", {"container": container.pk})
    actions = sorted(asked().values_list("action", flat=True))
    assert actions == ["container.restart", "container.run", "container.start", "container.stop", "network.connect"]
    assert asked().get(action="container.stop").object_id == str(container.pk)
    assert "my-root-pw" not in json.dumps(list(asked().values()), default=str)
    assert "my-root-pw" not in team.api().get("audit/", {"format": "csv"}).content.decode()


def test_every_other_change_over_the_api_leaves_one_entry_with_its_token(team, other_team):
    ClusterGrant.objects.create(cluster=team.cluster, tenant=other_team.tenant)
    network, spare = team.network("web"), team.network("spare")
    attached = team.container("attached", networks=[{"network": network}])
    gone = team.container("gone")
    team.container("done", status=Container.Status.EXITED)
    get_user_model().objects.create_user(username="newcomer")
    api, slug = team.api(), other_team.tenant.slug
    asks = [
        ("network.disconnect", "post", f"networks/{network.pk}/disconnect/", {"container": attached.pk}, network),
        ("network.share", "post", f"networks/{network.pk}/share/", {"tenant": slug}, network),
        ("network.unshare", "post", f"networks/{network.pk}/unshare/", {"tenant": slug}, network),
        ("network.remove", "delete", f"networks/{spare.pk}/", None, spare),
        ("container.remove", "post", f"containers/{gone.pk}/remove/", None, gone),
        ("container.remove_exited", "post", "containers/remove-exited/", None, None),
        ("membership.add", "post", "members/", {"username": "newcomer", "role": "viewer"}, None),
    ]
    for action, method, path, body, obj in asks:
        response = api.post(path, body) if method == "post" else api.delete(path)
        assert response.status_code in (200, 201, 202), (action, response.content)
        entry = asked().get(action=action)
        assert (entry.user, entry.tenant, entry.token_prefix) == (
            team.users["owner"],
            team.tenant,
            team.users["owner"].api_tokens.get().prefix,
        )
        if obj is not None:
            assert (entry.object_type, entry.object_id) == (obj._meta.label_lower, str(obj.pk))
    assert asked().get(action="network.share").details == {"with": slug}
    assert asked().get(action="network.unshare").details == {"operations": [], "with": slug}
    assert len(asked().get(action="container.remove_exited").details["operations"]) == 1
    membership = team.tenant.memberships.get(user__username="newcomer")
    assert api.delete(f"members/{membership.pk}/").status_code == 204
    removed = asked().get(action="membership.remove")
    assert removed.object_id == str(membership.pk) and removed.user == team.users["owner"]
    assert asked().count() == len(asks) + 1


def test_members_and_tokens_over_the_api_are_recorded(team):
    api = team.api()
    response = api.post("tokens/", {"name": "ci"})
    key = response.json()["key"]
    api.delete(f"tokens/{response.json()['id']}/")
    assert list(asked().order_by("id").values_list("action", "tenant")) == [
        ("token.create", team.tenant.pk),
        ("token.revoke", team.tenant.pk),
    ]
    member = team.users["viewer"].memberships.get()
    api.patch(f"members/{member.pk}/", {"role": "member"})
    assert asked().get(action="membership.role_change").details == {"from": "viewer", "to": "member"}
    assert key not in json.dumps(list(asked().values()), default=str)


def test_owners_read_their_tenants_entries_only(team, other_team):
    team.api("member").post("networks/", {"name": "ours", "prefixlen": 24})
    other_team.api("member").post("networks/", {"name": "theirs", "prefixlen": 24})
    body = team.api().get("audit/").json()
    assert [row["object_repr"] for row in body["results"]] == ["ours"]
    theirs = asked().get(tenant=other_team.tenant)
    assert_error(team.api().get(f"audit/{theirs.pk}/"), 404, "not_found")
    ours = asked().get(tenant=team.tenant)
    assert team.api().get(f"audit/{ours.pk}/").json()["action"] == "network.create"


def test_members_and_viewers_are_refused(team):
    for role in ("member", "viewer"):
        for path in ("audit/", "audit/export.csv", "audit/?format=csv"):
            assert_error(team.api(role).get(path), 403)


def test_filters_by_action_user_and_date(team):
    team.api("member").post("networks/", {"name": "web", "prefixlen": 24})
    team.api().post("tokens/", {"name": "ci"})
    api = team.api()
    day = asked().first().created.date().isoformat()

    def actions(**params):
        response = api.get("audit/", params)
        assert response.status_code == 200, response.content
        return sorted(row["action"] for row in response.json()["results"])

    assert actions() == ["network.create", "token.create"]
    assert actions(action="network.") == ["network.create"]
    assert actions(user=team.users["owner"].username) == ["token.create"]
    assert actions(after=day, before=day) == ["network.create", "token.create"]
    assert actions(before="2000-01-01") == []
    error = api.get("audit/", {"after": "yesterday"}).json()["error"]
    assert error == {"code": "invalid", "message": "Enter a date as YYYY-MM-DD.", "field": "after"}


def test_csv_export(team):
    team.api("member").post("networks/", {"name": "web", "prefixlen": 24}, REMOTE_ADDR=ADDRESS)
    team.api().post("tokens/", {"name": "=cmd|calc"})
    for path, params in (("audit/export.csv", {}), ("audit/", {"format": "csv"})):
        response = team.api().get(path, params)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), response.content
        assert 'filename="audit.csv"' in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [row["action"] for row in rows] == ["token.create", "network.create"]
        assert rows[0]["object_repr"].startswith("'=cmd|calc")  # a name that looks like a formula stays text
        assert rows[1]["object_repr"] == "web" and rows[1]["address"] == ADDRESS and rows[1]["token_name"] == "tests"
        assert json.loads(rows[1]["details"])["subnet"]
    filtered = team.api().get("audit/export.csv", {"action": "network."}).content.decode()
    assert "network.create" in filtered and "token.create" not in filtered


def test_entries_cannot_be_changed_or_deleted_over_the_api(team):
    team.api().post("tokens/", {"name": "ci"})
    entry = asked().get()
    api = team.api()
    assert api.post("audit/", {"action": "x"}).status_code == 405
    assert api.patch(f"audit/{entry.pk}/", {"action": "x"}).status_code == 405
    assert api._call("put", f"audit/{entry.pk}/", {"action": "x"}).status_code == 405
    assert api.delete(f"audit/{entry.pk}/").status_code == 405
    entry.refresh_from_db()
    assert entry.action == "token.create" and asked().count() == 1
