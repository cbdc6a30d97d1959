"""Containers over the API: run (private unless published), masked secrets, the port query, actions."""

import pytest

from networks.models import Container
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db
TOOLS = "overlay-portal/tools:latest"


def test_run_joins_networks_by_name_or_id_and_masks_secrets(team):
    mynetwork = team.network("mynetwork")
    other = team.network("backend")
    body = {
        "name": "mysql",
        "image": TOOLS,
        "networks": [{"network": "mynetwork"}, {"network": other.pk, "aliases": ["db"]}],
        "environment": [{"name": "MYSQL_ROOT_PASSWORD", "value": "my-root-pw", "secret": True}],
    }
    response = team.api().post("containers/", body)
    assert response.status_code == 202, response.content
    operation = response.json()
    assert sorted(operation["params"]["networks"]) == ["backend", "mynetwork"]
    assert "my-root-pw" not in response.content.decode()
    detail = team.api("viewer").get(f"containers/{operation['container']}/").json()
    assert detail["environment"] == [{"name": "MYSQL_ROOT_PASSWORD", "value": "••••••", "secret": True}]
    assert sorted(n["network"] for n in detail["networks"]) == sorted([mynetwork.pk, other.pk])
    assert detail["is_exposed"] is False and detail["exposure"] == []


def test_run_refusals_are_the_services_sentences(team):
    api = team.api()
    assert_error(
        api.post("containers/", {"name": "a", "image": TOOLS, "networks": [{"network": "nope"}]}), 404, field="networks"
    )
    assert_error(
        api.post("containers/", {"name": "a", "image": TOOLS, "ports": ["80:80:80"]}),
        400,
        "bad_port",
        field="ports",
        message='"80:80:80" is not a port mapping. Write HOST:CONTAINER, such as 8080:80 or 53:53/udp.',
    )
    assert_error(api.post("containers/", {"name": "a", "image": " "}), 400, "image_required", field="image")
    assert_error(api.post("containers/", {"name": "a", "image": TOOLS, "node": "node9"}), 400, "bad_node", field="node")
    team.container("taken")
    assert_error(api.post("containers/", {"name": "taken", "image": TOOLS}), 409, "name_taken", field="name")


def test_an_image_reference_and_an_alias_are_refused_with_their_own_sentences(team):
    api = team.api()
    team.network("web")
    assert_error(
        api.post("containers/", {"name": "a", "image": "Busybox:latest"}),
        400,
        "bad_image",
        field="image",
        message="“Busybox:latest” is not a valid image reference: the name must be lowercase. Write "
        "[HOST[:PORT]/]NAME[:TAG][@DIGEST], such as busybox, busybox:1.36 or registry.example.com:5000/team/app:1.2.",
    )
    body = {"name": "a", "image": TOOLS, "networks": [{"network": "web", "aliases": ["db", "bad alias!"]}]}
    assert_error(
        api.post("containers/", body),
        400,
        "bad_alias",
        field="aliases",
        message="Alias “bad alias!” is not a valid DNS name: use letters, digits, hyphens and underscores, in labels "
        "of at most 63 characters separated by periods and 253 in all, such as db or db.internal. Separate aliases "
        "with commas.",
    )
    assert not Container.objects.filter(name="a").exists()


@pytest.mark.parametrize("second", ["web", "id"])
def test_a_run_listing_a_network_twice_is_refused_on_the_networks_field(team, second):
    # It was an IntegrityError (one endpoint per network and container), a 500.
    web = team.network("web")
    networks = [{"network": "web"}, {"network": "web" if second == "web" else web.pk, "aliases": ["db"]}]
    response = team.api().post("containers/", {"name": "a", "image": TOOLS, "networks": networks})
    message = 'Network "web" is listed twice. List each network once, with all its aliases.'
    assert_error(response, 400, "network_repeated", field="networks", message=message)
    assert not Container.objects.filter(name="a").exists()


def test_a_tenant_policy_can_forbid_published_ports(team):
    team.tenant.allow_published_ports = False
    team.tenant.save()
    error = assert_error(
        team.api().post("containers/", {"name": "wordpress", "image": TOOLS, "ports": ["80:80"]}),
        403,
        "publishing_forbidden",
        field="ports",
    )
    assert "expose containers to the Internet and ServiceNet" in error["message"]


def test_run_with_idempotency_key_runs_once(team):
    body = {"name": "web", "image": TOOLS}
    first = team.api().post("containers/", body, headers={"Idempotency-Key": "run-web"})
    again = team.api().post("containers/", body, headers={"Idempotency-Key": "run-web"})
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    assert Container.objects.filter(name="web").count() == 1


def test_port_query_answers_like_docker_port(team):
    mysql = team.container("mysql")
    assert_error(
        team.api("viewer").get(f"containers/{mysql.pk}/port/", {"port": "3306"}),
        404,
        "no_public_port",
        message="Error: No public port '3306/tcp' published for mysql",
    )
    wordpress = team.container("wordpress", ports=["80:80"])
    Container.objects.filter(pk=wordpress.pk).update(
        published_ports=[{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": "80"}]
    )
    node = wordpress.node.address
    answer = team.api("viewer").get(f"containers/{wordpress.pk}/port/", {"port": "80"}).json()
    assert answer == {"container": "wordpress", "port": "80/tcp", "lines": [f"{node}:80"]}
    every = team.api().get(f"containers/{wordpress.pk}/port/").json()
    assert every["lines"] == [f"80/tcp -> {node}:80"] and every["port"] is None
    detail = team.api().get(f"containers/{wordpress.pk}/").json()
    assert detail["is_exposed"] and detail["exposure"] == [f"{node}:80 -> 80/tcp"]


@pytest.mark.parametrize("action", ["stop", "start", "restart", "remove"])
def test_actions_answer_202(team, action):
    container = team.container()
    response = team.api("member").post(f"containers/{container.pk}/{action}/")
    assert response.status_code == 202 and response.json()["kind"] == f"container.{action}"
    assert_error(team.api("viewer").post(f"containers/{container.pk}/{action}/"), 403)


def test_delete_removes_and_a_removing_container_is_409(team):
    container = team.container()
    assert team.api().delete(f"containers/{container.pk}/").json()["kind"] == "container.remove"
    assert_error(team.api().post(f"containers/{container.pk}/stop/"), 409, "bad_state")


def test_system_containers_are_shown_but_never_changed(team):
    consul = Container.objects.create(
        cluster=team.cluster, name="consul-node1", image="consul", is_system=True, status="running"
    )
    listed = team.api().get("containers/", {"is_system": "true"}).json()["results"]
    assert [c["id"] for c in listed] == [consul.pk]
    error = assert_error(team.api().post(f"containers/{consul.pk}/stop/"), 403, "system_container")
    assert "protected system container" in error["message"]


def test_remove_exited_removes_only_exited_containers(team):
    assert team.api().post("containers/remove-exited/").json() == {"count": 0, "operations": []}
    exited = [team.container(status="exited"), team.container(status="exited")]
    running = team.container()
    response = team.api().post("containers/remove-exited/")
    assert response.status_code == 202
    assert sorted(op["container"] for op in response.json()["operations"]) == sorted(c.pk for c in exited)
    running.refresh_from_db()
    assert running.status == "running"


def test_diagnose_refusals(team):
    stopped = team.container(status="exited")
    assert_error(team.api().post(f"containers/{stopped.pk}/diagnose/", {"target": "mysql"}), 409, "not_running")
    running = team.container()
    assert_error(
        team.api().post(f"containers/{running.pk}/diagnose/", {"target": "not a host"}),
        400,
        "bad_target",
        field="target",
    )
    assert_error(team.api("viewer").post(f"containers/{running.pk}/diagnose/", {"target": "mysql"}), 403)
