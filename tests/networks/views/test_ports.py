"""Safe host ports on the run page: the service's sentence under the ports field, what was typed kept."""

import pytest
from django.utils.html import escape

from networks.models import Container
from networks.services.grants import cluster_grant
from portal.actors import Actor
from tests.factories import make_container
from tests.networks.services.test_ports import PICK_ANOTHER, RESERVED
from tests.pages import run_form

pytestmark = pytest.mark.django_db
HOLDS_8080 = {"ports": [{"host": 8080, "container": 80, "protocol": "tcp"}]}


@pytest.mark.parametrize(("spec", "sentence"), RESERVED)
def test_a_port_the_node_serves_is_refused_on_the_form(client, team, spec, sentence):
    client.force_login(team.member)
    response = client.post("/containers/run/", run_form(team.cluster, name="web", ports=spec))
    page = response.content.decode()
    assert response.status_code == 400
    assert escape(sentence + PICK_ANOTHER) in page
    assert f'value="{spec}"' in page
    assert not Container.objects.exists()


def test_a_port_another_container_holds_on_the_pinned_node(client, team, other_team):
    cluster_grant(actor=Actor.system("tests"), cluster=team.cluster, tenant=other_team.tenant)
    make_container(team, "web", **HOLDS_8080)
    form = run_form(team.cluster, name="web2", ports="8080:80", node=f"{team.cluster.pk}:node1")
    client.force_login(team.member)
    response = client.post("/containers/run/", form)
    assert response.status_code == 409
    assert escape("Host port 8080/tcp on node1 is already published by your container web;") in (
        response.content.decode()
    )

    client.force_login(other_team.owner)
    client.post("/tenant/switch/", {"tenant": other_team.tenant.pk})
    response = client.post("/containers/run/", form)
    page = response.content.decode()
    assert response.status_code == 409
    assert escape("Host port 8080/tcp on node1 is already published by another team's container;") in page
    assert ">web<" not in page and "your container" not in page


def test_spread_runs_where_the_port_is_free(client, team):
    make_container(team, "web", **HOLDS_8080)
    make_container(team, "busy1", node="node2")
    make_container(team, "busy2", node="node2")  # spread alone would pick node1, the emptier
    client.force_login(team.member)
    response = client.post("/containers/run/", run_form(team.cluster, name="plain"))
    assert Container.objects.get(name="plain").node.name == "node1"
    response = client.post("/containers/run/", run_form(team.cluster, name="web2", ports="8080:80"))
    assert response.status_code == 302
    assert Container.objects.get(name="web2").node.name == "node2"
