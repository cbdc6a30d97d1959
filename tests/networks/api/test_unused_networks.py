"""Unused networks: the filter and the dashboard line (no container for N days), the preview of exactly
what a removal takes, and the removal of a chosen set, one operation and one audit entry each; another
team's, external and in-use networks never go, and one a container joined since the preview is kept."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from networks.models import Cluster, Network, Operation
from portal.models import AuditEntry
from tests.apiclient import assert_error
from tests.support import row_locked_elsewhere

pytestmark = pytest.mark.django_db


def age(network, days: int, *, attached: bool = False) -> None:
    """Make `network` look made (or last left by a container) `days` days ago."""
    when = timezone.now() - datetime.timedelta(days=days)
    Network.objects.filter(pk=network.pk).update(created=when, last_attached=when if attached else None)


def test_the_preview_lists_the_teams_networks_without_containers_for_the_days(team, other_team, client):
    old = team.network("old")
    left_long_ago = team.network("left-long-ago")
    busy = team.network("busy")
    team.network("recent")  # made now: not unused for 30 days
    theirs = other_team.network("theirs")
    for network in (old, busy, theirs):
        age(network, 40)
    age(left_long_ago, 60, attached=True)
    team.container("worker", networks=[{"network": busy}])
    age(busy, 40)  # the container joined "long ago" too: it is on it now, so busy is in use

    preview = team.api().get("networks/unused/", {"days": 30}).json()
    assert [n["name"] for n in preview] == ["left-long-ago", "old"]
    assert team.api().get("networks/unused/", {"days": 50}).json()[0]["name"] == "left-long-ago"
    assert [n["name"] for n in team.api().get("networks/", {"unused_days": 30}).json()["results"]] == [
        "left-long-ago",
        "old",
    ]
    assert_error(team.api().get("networks/unused/", {"days": "soon"}), 400, "bad_days", field="days")

    client.force_login(team.member)
    dashboard = client.get("/").content.decode()
    assert "2 of your networks have had no container for 30 days" in dashboard
    page = client.get("/networks/unused/?days=30").content.decode()
    assert f'value="{old.pk}"' in page and "busy" not in page and "theirs" not in page and "recent" not in page


def test_removing_a_chosen_set_keeps_what_came_into_use_and_what_is_not_the_teams(team, other_team):
    first, second, third = team.network("first"), team.network("second"), team.network("third")
    theirs = other_team.network("theirs")
    external = Network.objects.create(
        cluster=team.cluster, name="ingress-like", subnet="10.255.0.0/24", gateway="10.255.0.1", is_external=True
    )
    for network in (first, second, third, theirs, external):
        age(network, 40)
    preview_ids = [n["id"] for n in team.api().get("networks/unused/").json()]
    assert sorted(preview_ids) == sorted([first.pk, second.pk, third.pk])
    team.container("late", networks=[{"network": second}])  # joins between the preview and the removal

    answer = team.api("member").post(
        "networks/remove-unused/", {"networks": [first.pk, second.pk, theirs.pk, external.pk], "days": 30}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [r["name"] for r in body["removed"]] == ["first"]
    kept = {k["network"]: k for k in body["kept"]}
    assert kept[second.pk]["reason"] == "A container joined second after the preview, so it was kept."
    assert kept[theirs.pk]["name"] == "" and "theirs" not in str(body), "another team's network is not named"
    assert kept[external.pk]["name"] == ""
    operation = Operation.objects.get(pk=body["removed"][0]["operation"])
    assert (operation.kind, operation.network_id) == (Operation.Kind.NETWORK_REMOVE, first.pk)
    assert AuditEntry.objects.filter(action="network.remove", object_id=str(first.pk)).count() == 1
    assert Network.objects.get(pk=third.pk).status == Network.Status.ACTIVE, "not picked, not removed"
    assert Network.objects.get(pk=theirs.pk).status == Network.Status.ACTIVE


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"networks": []}, "nothing_chosen", "networks"),
        ({"networks": "all"}, "not_a_list", "networks"),
        ({"networks": [1], "days": -1}, "bad_days", "days"),
        ({"networks": [1], "days": "30"}, "invalid", "days"),
        ({"networks": list(range(1, 10_001))}, "too_many_networks", "networks"),
    ],
)
def test_bad_removals_are_a_400_on_their_field(team, body, code, field):
    assert_error(team.api().post("networks/remove-unused/", body), 400, code, field=field)


def test_viewers_may_look_but_not_remove(team, client):
    network = team.network("idle")
    age(network, 40)
    assert team.api("viewer").post("networks/remove-unused/", {"networks": [network.pk]}).status_code == 403
    client.force_login(team.viewer)
    assert "idle" in client.get("/networks/unused/").content.decode()
    assert client.post("/networks/unused/", {"networks": [network.pk], "days": 30}).status_code == 403


def test_the_page_removes_the_ticked_ones_and_says_what_it_kept(team, client):
    gone, stays = team.network("gone"), team.network("stays")
    age(gone, 40), age(stays, 40)
    team.container("joiner", networks=[{"network": stays}])
    client.force_login(team.member)
    response = client.post("/networks/unused/", {"networks": [gone.pk, stays.pk], "days": 30}, follow=True)
    page = response.content.decode()
    assert "Removing 1 network(s): gone." in page and "A container joined stays after the preview" in page
    assert Network.objects.get(pk=gone.pk).status == Network.Status.REMOVING


@pytest.mark.django_db(transaction=True)  # the cluster's row held by another connection
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_removal_locks_the_networks_row_not_its_clusters(team):
    """Each chosen network is locked by its own row, not with its cluster's: that row is the swarm's lock, which
    every create in the web takes while it allocates. Here another transaction holds what any transaction adding
    rows of the cluster (an operation, a network) holds on it, its foreign-key check's FOR KEY SHARE: the
    networks' ordering by their cluster's name locked the cluster's row FOR UPDATE too and waited for it."""
    network = team.network("old")
    age(network, 40)

    with row_locked_elsewhere(Cluster, team.cluster.pk, strength="KEY SHARE"):
        answer = team.api("member").post("networks/remove-unused/", {"networks": [network.pk], "days": 30})

    assert answer.status_code == 200, answer.content
    assert [r["name"] for r in answer.json()["removed"]] == ["old"]
    assert Network.objects.get(pk=network.pk).status == Network.Status.REMOVING
