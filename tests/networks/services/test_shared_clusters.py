"""Several teams on one swarm, as rows: one pool, isolation, sharing on purpose, grants and limits.

What the swarm itself does with two teams at once is in test_shared_swarm.py (the real cluster).
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from networks import ipam
from networks.models import ClusterGrant, Container, Endpoint, Network, NetworkShare, Operation
from networks.services.clusters.registration import cluster_record
from networks.services.containers.run import container_run
from networks.services.grants import cluster_grant, cluster_grant_revoke
from networks.services.networks.attach import network_connect
from networks.services.networks.create import network_create
from networks.services.networks.remove import network_remove
from networks.services.runners import operation_give_up
from networks.services.shares import network_share, network_unshare
from plumbing.errors import ServiceError
from portal.actors import Actor
from tests.factories import found_swarm, made_bundle, make_container, make_network
from tests.pages import run_form

pytestmark = pytest.mark.django_db

NOT_USABLE = 'No network "{}" that your team can use on this cluster.'


@pytest.fixture
def shared(team, other_team):
    """`other_team` is granted `team`'s cluster: two teams on one swarm."""
    cluster_grant(actor=Actor.system("tests"), cluster=team.cluster, tenant=other_team.tenant)
    return team.cluster


def api(client, user, tenant):
    client.force_login(user)
    return lambda method, path, **kw: getattr(client, method)(
        f"/api/v1/{path}", content_type="application/json", headers={"X-Tenant": tenant.slug}, **kw
    )


def test_both_teams_allocate_from_one_pool_under_one_lock(team, other_team, shared):
    first = network_create(actor=Actor.system("tests"), tenant=team.tenant, cluster=shared, name="a-net").network
    second = network_create(actor=Actor.system("tests"), tenant=other_team.tenant, cluster=shared, name="b-net").network
    third = network_create(actor=Actor.system("tests"), tenant=team.tenant, cluster=shared, name="a-two").network
    assert [first.subnet, second.subnet, third.subnet] == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    with pytest.raises(ipam.IpamError) as refused:
        network_create(
            actor=Actor.system("tests"), tenant=other_team.tenant, cluster=shared, name="x", subnet="10.0.0.0/24"
        )
    # taken, whoever holds it; another team's network is not named
    assert refused.value.message.startswith("10.0.0.0/24 overlaps another team's network (10.0.0.0/24).")


def test_a_block_held_outside_the_portal_is_named_only_when_it_is_one_of_dockers_own(team):
    """Every swarm has an ingress, on 10.0.0.0/24 unless told otherwise: the first block a user tries."""
    make_network(team, "ingress", subnet="10.0.0.0/24", is_external=True, tenant=None)
    make_network(team, "cli-made", subnet="10.0.1.0/24", is_external=True, tenant=None)
    for subnet, holder in [("10.0.0.0/24", 'Docker\'s "ingress" network'), ("10.0.1.0/25", "a network made outside")]:
        with pytest.raises(ipam.IpamError) as refused:
            network_create(
                actor=Actor.system("tests"), tenant=team.tenant, cluster=team.cluster, name="x", subnet=subnet
            )
        assert refused.value.message.startswith(f"{subnet} overlaps {holder}"), refused.value.message
        assert "cli-made" not in refused.value.message


def test_another_teams_networks_never_show_on_list_topology_map_or_api(client, team, other_team, shared):
    theirs = make_network(team, "payments-db")
    mine = make_network(other_team, "mine")
    make_network(team, "cli-made", is_external=True, tenant=None)
    client.force_login(other_team.owner)
    client.post("/tenant/switch/", {"tenant": other_team.tenant.pk})
    page = client.get("/networks/").content.decode()
    assert "mine" in page and "payments-db" not in page and "cli-made" not in page
    topology = client.get(f"/topology/?cluster={shared.pk}").content.decode()
    assert "payments-db" not in topology and theirs.subnet not in topology and "cli-made" not in topology
    picture = client.get(f"/map/?cluster={shared.pk}").content.decode()
    assert "payments-db" not in picture and "cli-made" not in picture
    assert f"<title>{theirs.subnet}: held by another team</title>" in picture
    assert "held outside the portal" in picture
    assert client.get(f"/networks/{theirs.pk}/").status_code == 404
    call = api(client, other_team.owner, other_team.tenant)
    names = [n["name"] for n in call("get", "networks/?page_size=100").json()["results"]]
    assert names == ["mine"]  # its own network, and nothing of the other team's
    capacity = call("get", f"clusters/{shared.pk}/capacity/").json()
    owners = {a["cidr"]: (a["kind"], a["owner"], a["network"]) for a in capacity["allocations"]}
    assert owners[theirs.subnet] == ("other", "held by another team", None)
    assert "payments-db" not in str(capacity) and theirs.docker_id not in str(capacity)
    assert mine.subnet in owners


def test_no_one_runs_or_connects_on_another_teams_network_by_any_path(client, team, other_team, shared):
    theirs = make_network(team, "private")
    box = make_container(other_team, "box")
    Container.objects.filter(pk=box.pk).update(cluster=shared, node=team.node())
    call = api(client, other_team.member, other_team.tenant)
    body = {"name": "spy", "image": "overlay-portal/tools:latest", "cluster": shared.pk}
    for ref in ("private", theirs.pk):
        response = call("post", "containers/", data={**body, "networks": [{"network": ref}]})
        assert response.status_code == 404
        assert response.json()["error"]["message"] == NOT_USABLE.format(ref)
    assert call("post", f"networks/{theirs.pk}/connect/", data={"container": box.pk}).status_code == 404
    # the page: a crafted form naming the other team's network
    client.force_login(other_team.member)
    client.post("/tenant/switch/", {"tenant": other_team.tenant.pk})
    page = client.post("/containers/run/", run_form(shared, name="spy2", networks=[theirs.pk])).content.decode()
    assert NOT_USABLE.format(theirs.pk).replace('"', "&quot;") in page
    # the services themselves
    with pytest.raises(ServiceError) as refused:
        container_run(
            actor=Actor.system("tests"),
            tenant=other_team.tenant,
            cluster=shared,
            name="spy3",
            image="x",
            networks=[{"network": theirs}],
        )
    assert refused.value.message == NOT_USABLE.format(theirs.pk)
    with pytest.raises(ServiceError):
        network_connect(actor=Actor.system("tests"), tenant=other_team.tenant, network=theirs, container=box)
    assert not Endpoint.objects.filter(network=theirs).exists()
    assert not Container.objects.filter(name__startswith="spy").exists()


def test_a_shared_network_is_used_not_managed(client, team, other_team, shared):
    db_net = make_network(team, "backend")
    make_container(team, "db", networks=[db_net])
    owner = Actor(user=team.owner, name=team.owner.username)
    network_share(actor=owner, tenant=team.tenant, network=db_net, with_tenant=other_team.tenant.slug)
    # the other team sees it, marked as shared, and may run a container on it
    client.force_login(other_team.member)
    client.post("/tenant/switch/", {"tenant": other_team.tenant.pk})
    page = client.get("/networks/").content.decode()
    assert "backend" in page and f"Shared by {team.tenant.name}" in page
    operation = container_run(
        actor=Actor.system("tests"),
        tenant=other_team.tenant,
        cluster=shared,
        name="app",
        image="x",
        networks=[{"network": db_net}],
    )
    assert Endpoint.objects.filter(network=db_net, container=operation.container).exists()
    # ...sees the names of the owner's containers there, but nothing more of them
    detail = client.get(f"/networks/{db_net.pk}/").content.decode()
    db = Container.objects.get(name="db")
    assert "db" in detail and f"/containers/{db.pk}/" not in detail and "Another team's" in detail
    assert "Remove network" not in detail and "Shared with other teams" not in detail
    assert client.get(f"/containers/{db.pk}/").status_code == 404
    # ...and may not remove it, share it or read Docker's view of it
    with pytest.raises(ServiceError) as refused:
        network_remove(actor=Actor.system("tests"), tenant=other_team.tenant, network=db_net)
    assert refused.value.http_status == 403 and f"only {team.tenant.name} can remove it" in refused.value.message
    call = api(client, other_team.owner, other_team.tenant)
    assert call("delete", f"networks/{db_net.pk}/").status_code == 403
    assert call("get", f"networks/{db_net.pk}/inspect/").status_code == 403
    assert call("post", f"networks/{db_net.pk}/share/", data={"tenant": other_team.tenant.slug}).status_code == 403
    seen = call("get", f"networks/{db_net.pk}/").json()
    assert seen["shared"] is True and seen["owner"] == team.tenant.slug
    assert {"container": None, "container_name": "db", "ipv4_address": None, "mac_address": "", "aliases": []} in (
        seen["containers"]
    )


def test_stopping_a_share_waits_for_the_other_teams_containers_unless_asked_to_disconnect(
    client, team, other_team, shared
):
    net = make_network(team, "backend")
    network_share(actor=Actor.system("tests"), tenant=team.tenant, network=net, with_tenant=other_team.tenant.slug)
    app = make_container(other_team, "app")
    Container.objects.filter(pk=app.pk).update(cluster=shared, node=team.node())
    Endpoint.objects.create(network=net, container=app, ipv4_address="10.0.0.9")
    with pytest.raises(ServiceError) as refused:
        network_unshare(
            actor=Actor.system("tests"), tenant=team.tenant, network=net, with_tenant=other_team.tenant.slug
        )
    assert refused.value.http_status == 409 and "app" in refused.value.message
    call = api(client, team.owner, team.tenant)
    response = call("post", f"networks/{net.pk}/unshare/", data={"tenant": other_team.tenant.slug, "disconnect": True})
    assert response.status_code == 200 and response.json()["count"] == 1
    operation = Operation.objects.get(pk=response.json()["operations"][0]["id"])
    assert operation.kind == Operation.Kind.NETWORK_DISCONNECT and operation.container_id == app.pk
    assert not NetworkShare.objects.filter(network=net).exists()


def test_sharing_on_the_page_is_for_owners_and_for_teams_of_the_cluster(client, team, other_team, shared):
    net = make_network(team, "backend")
    client.force_login(team.member)
    assert "Shared with other teams" not in client.get(f"/networks/{net.pk}/").content.decode()
    assert client.post(f"/networks/{net.pk}/share/", {"tenant": other_team.tenant.pk}).status_code == 403
    client.force_login(team.owner)
    page = client.get(f"/networks/{net.pk}/").content.decode()
    assert "Shared with other teams" in page and other_team.tenant.name in page
    response = client.post(f"/networks/{net.pk}/share/", {"tenant": other_team.tenant.pk}, follow=True)
    assert f"is shared with {other_team.tenant.name}" in response.content.decode()
    assert NetworkShare.objects.filter(network=net, tenant=other_team.tenant).exists()
    assert client.post(f"/networks/{net.pk}/unshare/{'9' * 25}/").status_code == 404  # no id is that large
    response = client.post(f"/networks/{net.pk}/unshare/{other_team.tenant.pk}/", follow=True)
    assert "no longer shared" in response.content.decode()
    ClusterGrant.objects.filter(tenant=other_team.tenant, cluster=shared).delete()
    with pytest.raises(ServiceError) as refused:
        network_share(actor=Actor.system("tests"), tenant=team.tenant, network=net, with_tenant=other_team.tenant.slug)
    assert "does not use cluster" in refused.value.message


def test_limits_per_grant_are_enforced_and_shown(client, team, other_team, shared):
    cluster_grant(
        actor=Actor.system("tests"),
        cluster=shared,
        tenant=other_team.tenant,
        max_networks=1,
        max_containers=1,
        max_published_ports=1,
    )
    network_create(actor=Actor.system("tests"), tenant=other_team.tenant, cluster=shared, name="one")
    with pytest.raises(ServiceError) as refused:
        network_create(actor=Actor.system("tests"), tenant=other_team.tenant, cluster=shared, name="two")
    assert refused.value.http_status == 409 and refused.value.code == "limit_reached"
    assert "at most 1 networks on cluster" in refused.value.message and "--max-networks" in refused.value.message
    network_create(actor=Actor.system("tests"), tenant=team.tenant, cluster=shared, name="owners-are-not-limited")
    with pytest.raises(ServiceError) as refused:
        container_run(
            actor=Actor.system("tests"),
            tenant=other_team.tenant,
            cluster=shared,
            name="web",
            image="x",
            ports=["80:80", "81:81"],
        )
    assert "published ports" in refused.value.message
    container_run(
        actor=Actor.system("tests"), tenant=other_team.tenant, cluster=shared, name="web", image="x", ports=["80:80"]
    )
    with pytest.raises(ServiceError) as refused:
        container_run(actor=Actor.system("tests"), tenant=other_team.tenant, cluster=shared, name="web2", image="x")
    assert "at most 1 containers" in refused.value.message
    client.force_login(other_team.owner)
    client.post("/tenant/switch/", {"tenant": other_team.tenant.pk})
    page = client.get("/").content.decode()
    assert "<strong>1</strong> / 1" in page
    limits = api(client, other_team.owner, other_team.tenant)("get", f"clusters/{shared.pk}/").json()["limits"]
    assert limits == {
        "networks": {"used": 1, "allowed": 1},
        "containers": {"used": 1, "allowed": 1},
        "published_ports": {"used": 1, "allowed": 1},
    }


def test_revoking_a_grant_waits_until_the_team_has_nothing_there(team, other_team, shared):
    operation = network_create(actor=Actor.system("tests"), tenant=other_team.tenant, cluster=shared, name="theirs")
    with pytest.raises(ServiceError) as refused:
        cluster_grant_revoke(actor=Actor.system("tests"), cluster=shared, tenant=other_team.tenant)
    assert "network theirs" in refused.value.message
    with pytest.raises(CommandError, match="network theirs"):
        call_command("cluster_grant", "--cluster", str(shared.pk), "--tenant", other_team.tenant.slug, "--revoke")
    Network.objects.filter(pk=operation.network_id).update(status=Network.Status.REMOVED)
    out = io.StringIO()
    call_command("cluster_grant", "--cluster", shared.name, "--tenant", other_team.tenant.slug, "--revoke", stdout=out)
    assert "no longer uses" in out.getvalue()
    assert not ClusterGrant.objects.filter(cluster=shared, tenant=other_team.tenant).exists()


def test_the_grant_command_grants_and_sets_limits(team, other_team):
    out = io.StringIO()
    call_command(
        "cluster_grant",
        "--cluster",
        str(team.cluster.pk),
        "--tenant",
        other_team.tenant.slug,
        "--max-networks",
        "5",
        stdout=out,
    )
    assert f"{other_team.tenant.name} now uses cluster {team.cluster.name}" in out.getvalue()
    assert "networks 0/5" in out.getvalue() and "containers 0/∞" in out.getvalue()
    call_command(
        "cluster_grant", "--cluster", str(team.cluster.pk), "--tenant", other_team.tenant.slug, "--max-networks", "none"
    )
    assert ClusterGrant.objects.get(cluster=team.cluster, tenant=other_team.tenant).max_networks is None


def test_a_swarm_is_registered_once_and_shared_by_grant(team, other_team):
    found = found_swarm(
        swarm_id="swarm-x",
        nodes=(
            {"name": "node1", "address": "192.0.2.9", "role": "manager", "docker_endpoint": "tcp://192.0.2.9:2376"},
        ),
    )
    cluster = cluster_record(tenant=team.tenant, found=found, bundle=made_bundle(), name="prod")
    again = cluster_record(tenant=team.tenant, found=found, bundle=made_bundle(), name="prod")
    assert again.pk == cluster.pk  # registering again refreshes it
    with pytest.raises(ServiceError) as refused:
        cluster_record(tenant=other_team.tenant, found=found, bundle=made_bundle(), name="prod-b")
    message = refused.value.message
    assert 'already registered as cluster "prod"' in message
    assert f"cluster_grant --cluster {cluster.pk} --tenant {other_team.tenant.slug}" in message


def test_the_admin_refuses_to_revoke_a_grant_in_use(client, team, other_team, shared):
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123")
    make_network(other_team, "theirs")
    Network.objects.filter(name="theirs").update(cluster=shared)
    grant = ClusterGrant.objects.get(cluster=shared, tenant=other_team.tenant)
    client.force_login(admin)
    page = client.get(f"/admin/networks/clustergrant/{grant.pk}/change/").content.decode()
    assert "Refused while" in page and "network theirs" in page
    assert client.post(f"/admin/networks/clustergrant/{grant.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ClusterGrant.objects.filter(pk=grant.pk).exists()


def test_staff_give_up_on_a_stuck_create_and_the_team_can_remove_it(client, team):
    operation = network_create(actor=Actor.system("tests"), tenant=team.tenant, cluster=team.cluster, name="stuck")
    network = Network.objects.get(pk=operation.network_id)
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    response = client.post(
        "/admin/networks/operation/", {"action": "give_up", "_selected_action": [operation.pk]}, follow=True
    )
    assert "A worker gives up on 1 operation(s)" in response.content.decode()
    assert operation_give_up(operation=operation)  # what the worker then does
    assert not operation_give_up(operation=operation)  # once
    operation.refresh_from_db()
    network.refresh_from_db()
    assert operation.status == Operation.Status.FAILED and operation.error_code == "given_up"
    assert network.status == Network.Status.FAILED
    # This cluster is only rows: nobody could ask the swarm whether it made the network, so the block stays
    # held by the failed network (no one else is handed a block the swarm may hold) until reconcile looks.
    assert list(network.cluster.subnet_allocations.filter(cidr=network.subnet).values_list("network", flat=True)) == [
        network.pk
    ]
    assert (
        network_remove(actor=Actor.system("tests"), tenant=team.tenant, network=network).kind
        == Operation.Kind.NETWORK_REMOVE
    )
