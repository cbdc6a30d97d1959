"""The tutorial over the REST API, through the real worker and the real local cluster.

Names carry a random suffix: another test session may use the same cluster at the same time.
"""

import secrets
import time

import pytest
from django.contrib.auth import get_user_model

from portal.actors import Actor
from portal.services import api_token_create, membership_set
from tests.apiclient import Api, assert_error
from tests.support import first_team

pytestmark = [pytest.mark.cluster, pytest.mark.worker]
TOOLS = "overlay-portal/tools:latest"


@pytest.fixture
def api(tenant_cluster) -> Api:
    user = get_user_model().objects.create_user(username=f"script-{secrets.token_hex(3)}")
    membership_set(tenant=first_team(tenant_cluster), user=user, role="member")
    return Api(api_token_create(actor=Actor.system("tests"), user=user, name="ci")[1])


def test_the_tutorial_over_the_api(celery_worker_process, tenant_cluster, api):
    suffix = secrets.token_hex(3)
    # $ docker network create mynetwork  (202 + Location, then poll the operation)
    accepted = api.post("networks/", {"name": f"mynetwork-{suffix}"})
    assert accepted.status_code == 202, accepted.content
    location = accepted["Location"]
    operation = accepted.json()
    for _ in range(240):
        operation = api.get(location).json()
        if operation["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.25)
    assert operation["status"] == "succeeded", operation
    network_id = operation["network"]

    # $ docker network inspect mynetwork
    inspected = api.get(f"networks/{network_id}/inspect/")
    assert inspected.status_code == 200, inspected.content
    [view] = inspected.json()
    assert view["Name"] == f"mynetwork-{suffix}" and view["Driver"] == "overlay"
    network = api.get(f"networks/{network_id}/").json()
    assert view["IPAM"]["Config"][0]["Subnet"] == network["subnet"]

    # $ docker run --detach --name mysql --net mynetwork --env MYSQL_ROOT_PASSWORD=... mysql:5.6  (with ?wait=)
    mysql_name = f"mysql-{suffix}"
    ran = api.post(
        "containers/?wait=90",
        {
            "name": mysql_name,
            "image": TOOLS,
            "command": ["sh", "-c", "while true; do echo ok | nc -l -p 3306; done"],
            "networks": [{"network": f"mynetwork-{suffix}"}],
            "environment": [{"name": "MYSQL_ROOT_PASSWORD", "value": "my-root-pw", "secret": True}],
        },
    )
    assert ran.status_code == 200 and ran.json()["status"] == "succeeded", ran.json()
    assert ran["Location"].endswith(f"/operations/{ran.json()['id']}/")
    mysql = ran.json()["container"]
    # $ docker port mysql 3306
    assert_error(
        api.get(f"containers/{mysql}/port/", {"port": "3306"}),
        404,
        "no_public_port",
        message=f"Error: No public port '3306/tcp' published for {mysql_name}",
    )

    # $ docker run --detach --name wordpress --net mynetwork --publish 80:80 ... wordpress:4.4
    host_port = 20000 + secrets.randbelow(20000)
    ran = api.post(
        "containers/?wait=90",
        {
            "name": f"wordpress-{suffix}",
            "image": TOOLS,
            "command": ["sh", "-c", "echo wordpress-home > /tmp/index.html && exec httpd -f -p 80 -h /tmp"],
            "networks": [{"network": network_id}],
            "ports": [f"{host_port}:80"],
            "environment": [{"name": "WORDPRESS_DB_HOST", "value": mysql_name}],
        },
        headers={"Idempotency-Key": f"wordpress-{suffix}"},
    )
    assert ran.status_code == 200 and ran.json()["status"] == "succeeded", ran.json()
    wordpress = ran.json()["container"]
    # $ docker port wordpress 80
    detail = api.get(f"containers/{wordpress}/").json()
    assert api.get(f"containers/{wordpress}/port/", {"port": "80"}).json()["lines"] == [
        f"{detail['node_address']}:{host_port}"
    ]
    assert detail["is_exposed"]

    # The hostname mysql resolves on the overlay network, and its port answers.
    diagnosis = api.post(f"containers/{wordpress}/diagnose/", {"target": mysql_name, "port": 3306})
    assert diagnosis.status_code == 200 and diagnosis.json()["ok"], diagnosis.json()

    # Clean up through the API: remove the network with its containers disconnected, waiting for it.
    for container in (mysql, wordpress):
        assert api.delete(f"containers/{container}/?wait=60").json()["status"] == "succeeded"
    removed = api.delete(f"networks/{network_id}/?disconnect=true&wait=60")
    assert removed.status_code == 200 and removed.json()["status"] == "succeeded", removed.json()
    assert api.get(f"networks/{network_id}/").json()["status"] == "removed"


def test_a_failed_operation_is_200_with_its_sentence_and_health_is_asked_live(
    celery_worker_process, tenant_cluster, api
):
    ran = api.post("containers/?wait=60", {"name": f"ghost-{secrets.token_hex(3)}", "image": "no-such/image:1"})
    assert ran.status_code == 200, ran.content
    operation = ran.json()
    assert operation["status"] == "failed" and operation["error"], operation
    live = api.get("clusters/")
    assert live.json()["results"][0]["health"]["nodes_total"] >= 1
    health = api.get(f"clusters/{tenant_cluster.pk}/health/")
    assert health.status_code == 200 and health.json()["consul_leader"] is True, health.content


def test_a_batch_makes_its_networks_through_the_worker(celery_worker_process, tenant_cluster, api):
    """POST /api/v1/networks/batch/ with a repeated name: the others are made by the worker, each with its own
    operation and block, active in Docker's view; the repeated one is refused on its own."""
    suffix = secrets.token_hex(3)
    names = [f"bulk{i}-{suffix}" for i in range(3)]
    answer = api.post("networks/batch/", [{"name": name} for name in [*names, names[0]]])
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert (body["made"], body["refused"]) == (3, 1) and body["results"][3]["error"]["code"] == "name_repeated"
    operations = [result["operation"] for result in body["results"][:3]]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        operations = [api.get(operation["url"]).json() for operation in operations]
        if all(operation["status"] in ("succeeded", "failed") for operation in operations):
            break
        time.sleep(0.25)
    assert [operation["status"] for operation in operations] == ["succeeded"] * 3, operations
    subnets = set()
    for operation in operations:
        [view] = api.get(f"networks/{operation['network']}/inspect/").json()
        assert view["Name"] == operation["target"] and view["Driver"] == "overlay"
        subnets.add(view["IPAM"]["Config"][0]["Subnet"])
    assert len(subnets) == 3
    for operation in operations:
        removed = api.delete(f"networks/{operation['network']}/?wait=60")
        assert removed.json()["status"] == "succeeded", removed.json()
