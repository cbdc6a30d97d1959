"""The cluster pictures: the allocation map and the topology."""

import re

import pytest

from networks.models import Container
from networks.services.allocations import subnet_import_external
from tests.factories import make_cluster, make_container, make_network, make_operation, make_system_container, make_user

pytestmark = pytest.mark.django_db


def test_the_map_draws_the_pool_and_names_each_blocks_owner(client, team):
    subnet_import_external(cluster=team.cluster, cidr="10.0.0.0/24", owner='external network "ingress"')
    web = make_network(team, "web")
    client.force_login(team.viewer)
    page = client.get("/map/").content.decode()
    # the overview: 256 /16s; the detail: the 256 /24s of the /16 holding the next free block
    assert page.count('<a class="cell"') == 512
    # two ARIA grids (one Tab stop each with static/portal/grid-keys.js) of 16 rows, each cell named
    assert page.count('role="grid"') == 2 and page.count('role="row"') == 32 and page.count('role="gridcell"') == 512
    assert page.count('role="rowheader"') == 32 and page.count("data-current") == 1  # the /16 shown in detail
    assert 'aria-label="10.0.2.0/24: free — the next network gets this block"' in page
    assert "10.0.0.0/16</span>, by /24" in page
    assert "<title>10.0.0.0/24: held outside the portal</title>" in page  # staff see its name in the admin
    assert f"<title>{web.subnet}: network &quot;web&quot;</title>" in page
    assert "<title>10.0.2.0/24: free — the next network gets this block</title>" in page
    assert "<title>10.176.0.0/16 (12% held): ServiceNet (10.176.224.0/19)</title>" in page
    # the legend's figures come from cluster_capacity
    assert "65,536" in page and "65,502" in page and ">10.0.2.0/24<" in page


def test_zooming_into_a_slash_16_and_picking_a_block(client, team):
    web = make_network(team, "web")
    client.force_login(team.viewer)
    page = client.get("/map/?block=10.176.0.0/16&select=10.176.230.0/24").content.decode()
    assert "10.176.0.0/16</span>, by /24" in page
    assert "<title>10.176.230.0/24: part of ServiceNet (10.176.224.0/19)</title>" in page
    assert re.search(r'id="selected".*ServiceNet', page, re.S)

    page = client.get(f"/map/?select={web.subnet}").content.decode()
    assert f'<a href="/networks/{web.pk}/">network &quot;web&quot;</a>' in page


def test_another_teams_cluster_map_and_topology_are_404s(client, team, other_team):
    client.force_login(team.owner)
    assert client.get(f"/map/?cluster={other_team.cluster.pk}").status_code == 404
    assert client.get(f"/topology/?cluster={other_team.cluster.pk}").status_code == 404


def test_a_team_with_two_clusters_picks_one(client, team):
    second = make_cluster(team.tenant, "second", octet=251)
    client.force_login(team.viewer)
    page = client.get(f"/map/?cluster={second.pk}").content.decode()
    assert 'id="cluster-pick"' in page and f'<option value="{second.pk}" selected>second</option>' in page


def test_the_topology_shows_nodes_networks_and_containers_per_node(client, team):
    front, back = make_network(team, "front"), make_network(team, "back")
    make_container(
        team,
        "web",
        networks=[front, back],
        node="node1",
        published_ports=[{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": "80"}],
    )
    make_container(team, "db", networks=[back], node="node2")
    make_container(team, "gone", node="node2", status=Container.Status.REMOVED)
    make_system_container(team, "node2")
    client.force_login(team.viewer)
    page = client.get("/topology/").content.decode()
    for text in ("node1", "node2", ">front<", ">back<", ">web<", ">db<", "op-consul-node2", "⚠ 192.168."):
        assert text in page, text
    assert "gone" not in page
    assert page.count('class="link ') == 3  # web to two networks, db to one


def test_the_topology_draws_networks_without_containers_only_when_asked(client, team):
    used = make_network(team, "used")
    for name in ("idle-1", "idle-2"):
        make_network(team, name)
    make_container(team, "web", networks=[used], node="node1")
    client.force_login(team.viewer)
    page = client.get(f"/topology/?cluster={team.cluster.pk}").content.decode()
    assert ">used<" in page and ">idle-1<" not in page and ">idle-2<" not in page
    assert "2 networks with no container are not drawn." in page
    assert f'href="?cluster={team.cluster.pk}&amp;empty=1">Draw them too</a>' in page  # the cluster kept

    page = client.get(f"/topology/?cluster={team.cluster.pk}&empty=1").content.decode()
    assert ">used<" in page and ">idle-1<" in page and ">idle-2<" in page
    assert f'href="?cluster={team.cluster.pk}">Draw only networks with containers</a>' in page


def test_the_pictures_keep_themselves_current(client, team):
    front = make_network(team, "front")
    client.force_login(team.viewer)
    for url in (f"/topology/?cluster={team.cluster.pk}", f"/map/?cluster={team.cluster.pk}"):
        page = client.get(url).content.decode()
        watch = re.search(r'<div class="live-watch" hx-get="([^"]+)" hx-headers=\'\{"X-Seen-Version": "(\w+)"', page)
        assert watch and 'hx-trigger="every 10s" hx-target="#live"' in page, url
        watching = {"HX-Request": "true", "HX-Target": "live", "X-Seen-Version": watch.group(2)}
        assert client.get(watch.group(1), headers=watching).status_code == 204, url

    # A container starts on the network (another user, or the docker CLI heard by the follower).
    make_container(team, "web", networks=[front], node="node1")
    operation = make_operation(team, target="web")
    page = client.get(f"/topology/?cluster={team.cluster.pk}", headers={"HX-Request": "true", "HX-Target": "live"})
    body = page.content.decode()
    assert page.status_code == 200 and ">web<" in body and "<html" not in body
    assert 'hx-trigger="every 2s"' in body and "Work in progress" in body  # faster while the worker is busy
    operation.status = "succeeded"
    operation.save()
    assert 'hx-trigger="every 10s"' in client.get("/topology/").content.decode()


def test_a_team_without_a_cluster(client, db):
    from portal.services import membership_set, tenant_create

    tenant = tenant_create(name="Empty")
    user = make_user("empty-owner")
    membership_set(tenant=tenant, user=user, role="owner")
    client.force_login(user)
    for url in ("/", "/map/", "/topology/", "/networks/new/", "/containers/run/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"has no cluster yet" in client.get("/networks/new/").content
