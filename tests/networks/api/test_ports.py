"""Safe host ports over the API: the service's sentences on the `ports` field, before anything runs."""

import pytest

from networks.models import Container
from networks.services.containers.run import container_run
from networks.services.grants import cluster_grant
from portal.actors import Actor
from tests.apiclient import assert_error
from tests.networks.services.test_ports import PICK_ANOTHER, RESERVED

pytestmark = pytest.mark.django_db
TOOLS = "overlay-portal/tools:latest"


@pytest.mark.parametrize(("spec", "sentence"), RESERVED)
def test_a_port_the_node_serves_is_a_400_on_ports(team, spec, sentence):
    response = team.api().post("containers/", {"name": "web", "image": TOOLS, "ports": ["8080:8080", spec]})
    assert_error(response, 400, "port_reserved", field="ports", message=sentence + PICK_ANOTHER)
    assert not Container.objects.exists()


def test_a_port_another_container_holds_names_it_only_when_it_is_the_teams_own(team, other_team):
    cluster_grant(actor=Actor.system("tests"), cluster=team.cluster, tenant=other_team.tenant)
    team.container("web", ports=["8080:80"], node=team.cluster.nodes.get(name="node1"))
    body = {"name": "web2", "image": TOOLS, "ports": ["8080:80"], "node": "node1"}
    assert_error(
        team.api().post("containers/", body),
        409,
        "port_in_use",
        field="ports",
        message="Host port 8080/tcp on node1 is already published by your container web; "
        "pick another host port, such as 8081.",
    )
    error = assert_error(other_team.api().post("containers/", {**body, "cluster": team.cluster.pk}), 409, field="ports")
    assert error["message"] == (
        "Host port 8080/tcp on node1 is already published by another team's container; "
        "pick another host port, such as 8081."
    )


def test_a_run_that_does_not_pin_a_node_goes_where_the_port_is_free(team):
    container_run(
        actor=Actor.system("tests"),
        tenant=team.tenant,
        cluster=team.cluster,
        name="web",
        image=TOOLS,
        ports=["8080:80"],
    )
    for name in ("busy1", "busy2"):  # running containers on the other node: spread alone would pick web's
        other = next(n for n in team.cluster.nodes.all() if n != Container.objects.get(name="web").node)
        team.container(name, node=other)
    response = team.api().post("containers/", {"name": "web2", "image": TOOLS, "ports": ["8080:80"]})
    assert response.status_code == 202, response.content
    nodes = {c.name: c.node.name for c in Container.objects.all()}
    assert nodes["web"] != nodes["web2"]
    error = assert_error(
        team.api().post("containers/", {"name": "web3", "image": TOOLS, "ports": ["8080:80"]}), 409, field="ports"
    )
    assert error["message"].startswith("Host port 8080/tcp is already published on every ready node of ")
