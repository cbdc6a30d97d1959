"""What a body or a path names is found, or refused with one sentence: clusters, networks, containers,
nodes and tokens, whichever team's they are (another team's looks exactly like a missing one)."""

import pytest

from networks.models import Container
from networks.services.grants import cluster_grant
from portal.actors import Actor
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db
TOOLS = "overlay-portal/tools:latest"


def test_a_run_goes_to_the_node_named_and_an_unknown_node_is_refused_by_name(team):
    api = team.api()
    response = api.post("containers/", {"name": "pinned", "image": TOOLS, "node": " node2 "})
    assert response.status_code == 202, response.content
    assert Container.objects.get(pk=response.json()["container"]).node.name == "node2"
    assert_error(
        api.post("containers/", {"name": "a", "image": TOOLS, "node": "node9"}),
        400,
        "bad_node",
        field="node",
        message=f'Cluster {team.cluster.name} has no node named "node9".',
    )


def test_another_teams_cluster_is_no_such_cluster(team, other_team):
    response = team.api().post("networks/", {"name": "web", "cluster": other_team.cluster.pk})
    assert_error(response, 404, "not_found", field="cluster", message="No such cluster.")


def test_a_team_with_two_clusters_names_one(team, other_team):
    cluster_grant(actor=Actor.system("tests"), cluster=other_team.cluster, tenant=team.tenant)
    response = team.api().post("networks/", {"name": "web"})
    names = ", ".join(sorted([team.cluster.name, other_team.cluster.name]))
    message = f"{team.tenant.name} has several clusters ({names}); send the cluster's id."
    assert_error(response, 400, "cluster_required", field="cluster", message=message)
    assert team.api().post("networks/", {"name": "web", "cluster": other_team.cluster.pk}).status_code == 202


def test_another_teams_container_is_no_such_container_on_its_field(team, other_team):
    network = team.network("web")
    theirs = other_team.container("theirs")
    for action in ("connect", "disconnect"):
        response = team.api().post(f"networks/{network.pk}/{action}/", {"container": theirs.pk})
        assert_error(response, 404, "not_found", field="container", message="No such container.")


def test_ids_in_the_path_of_another_team_are_no_such_object(team, other_team):
    api = team.api()
    assert_error(api.get(f"networks/{other_team.network('theirs').pk}/"), 404, "not_found", None, "No such network.")
    assert_error(api.delete("tokens/999999/"), 404, "not_found", None, "No such token.")
    assert_error(api.get("registry-logins/999999/"), 404, "not_found", None, "No such registry login.")


def test_only_owners_share_networks(team, other_team):
    network = team.network("web")
    response = team.api("member").post(f"networks/{network.pk}/share/", {"tenant": other_team.tenant.slug})
    message = "Only the team's owners can share its networks or stop sharing them."
    assert_error(response, 403, "permission_denied", None, message)
