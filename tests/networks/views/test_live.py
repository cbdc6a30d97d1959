"""The pages against the real local cluster, the real Redis and a real worker: the tutorial, clicked."""

import re

import pytest

from networks.models import Container, Network, Node, Operation
from portal.models import Membership
from portal.services import membership_set
from tests.factories import make_user
from tests.pages import run_form
from tests.support import first_team, wait_for_operation

pytestmark = [pytest.mark.cluster, pytest.mark.worker]


@pytest.fixture
def owner(client, tenant_cluster, celery_worker_process):
    user = make_user(f"{first_team(tenant_cluster).slug}-owner")
    membership_set(tenant=first_team(tenant_cluster), user=user, role=Membership.Role.OWNER)
    client.force_login(user)
    return user


def finished(operation_filter) -> Operation:
    operation = wait_for_operation(Operation.objects.filter(**operation_filter).latest("created"))
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    return operation


def run(client, cluster, name, *, networks, command, ports="", node="node1"):
    response = client.post(
        "/containers/run/",
        run_form(
            cluster,
            env=[("ROOT_PASSWORD", "my-root-pw", True)],
            name=name,
            command=command,
            networks=[n.pk for n in networks],
            ports=ports,
            node=f"{cluster.pk}:{node}",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    finished({"kind": Operation.Kind.CONTAINER_RUN, "target": name, "tenant": first_team(cluster)})
    return Container.objects.get(cluster=cluster, name=name)


def test_the_tutorial_through_the_pages(client, owner, tenant_cluster):
    cluster = tenant_cluster
    # $ docker network create mynetwork — the form says which block it gets, then it gets it
    page = client.get("/networks/new/").content.decode()
    promised = re.search(r'will get <span class="block">([0-9./]+)</span>', page).group(1)
    response = client.post("/networks/new/", {"cluster": cluster.pk, "name": "mynetwork", "prefixlen": 24})
    assert response.status_code == 302
    finished({"kind": Operation.Kind.NETWORK_CREATE, "target": "mynetwork", "tenant": first_team(cluster)})
    mynetwork = Network.objects.get(cluster=cluster, name="mynetwork", status=Network.Status.ACTIVE)
    assert mynetwork.subnet == promised

    status = client.get(f"/networks/{mynetwork.pk}/status/", headers={"HX-Request": "true"})
    assert b'data-status="active"' in status.content and status["HX-Trigger"] == "network-settled"

    # $ docker run --name mysql --net mynetwork (private) and wordpress --publish
    mysql = run(
        client, cluster, "mysql", networks=[mynetwork], command="sh -c 'while true; do echo ok | nc -l -p 3306; done'"
    )
    wordpress = run(
        client,
        cluster,
        "wordpress",
        networks=[mynetwork],
        ports="8081:80",
        node="node2",
        command="sh -c 'echo home > /tmp/index.html && exec httpd -f -p 80 -h /tmp'",
    )
    page = client.get("/containers/").content.decode()
    node2 = cluster.nodes.get(name="node2").address
    assert f'⚠ Exposed: <span class="port">{node2}:8081 -&gt; 80/tcp</span>' in page and ">Private</span>" in page
    assert "my-root-pw" not in client.get(f"/containers/{mysql.pk}/").content.decode()

    # $ docker port mysql 3306 / docker port wordpress 80
    assert "Error: No public port &#x27;3306/tcp&#x27; published for mysql" in (
        client.get(f"/containers/{mysql.pk}/?port=3306").content.decode()
    )
    assert f"{node2}:8081" in client.get(f"/containers/{wordpress.pk}/?port=80").content.decode()

    # $ docker network inspect mynetwork — Docker's view, with the containers of both nodes
    inspect = client.get(f"/networks/{mynetwork.pk}/inspect/", headers={"HX-Request": "true"}).content.decode()
    assert mynetwork.docker_id in inspect and "mysql" in inspect and "wordpress" in inspect
    assert f"&quot;Subnet&quot;: &quot;{mynetwork.subnet}&quot;" in inspect

    # wordpress finds mysql by name, over the overlay, across nodes
    response = client.post(
        f"/containers/{wordpress.pk}/diagnose/", {"target": "mysql", "port": "3306"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert response.status_code == 200, page
    assert "$ nslookup mysql" in page and 'data-kind="dns" data-ok="true"' in page
    assert 'data-kind="tcp" data-ok="true"' in page and "mysql:3306 answers" in page

    response = client.post(f"/containers/{wordpress.pk}/diagnose/", {"target": "nobody-here"})
    assert "nobody-here does not resolve from wordpress" in response.content.decode()

    # the topology draws both on their nodes, linked to mynetwork
    page = client.get(f"/topology/?cluster={cluster.pk}").content.decode()
    assert ">mysql<" in page and ">wordpress<" in page and page.count('class="link ') >= 2


def test_inspect_says_so_when_the_cluster_cannot_answer(client, owner, tenant_cluster):
    network = Network.objects.create(
        tenant=first_team(tenant_cluster),
        cluster=tenant_cluster,
        name="ghost",
        subnet="10.99.0.0/24",
        gateway="10.99.0.1",
        status=Network.Status.ACTIVE,
        docker_id="no-such-network-anywhere",
    )
    response = client.get(f"/networks/{network.pk}/inspect/", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="notice warn"' in page and "Ask again" in page
    assert "Traceback" not in page


def test_refresh_health_asks_a_worker_and_the_dashboard_shows_the_answer(client, owner, tenant_cluster):
    Node.objects.filter(cluster=tenant_cluster).update(state=Node.State.UNKNOWN)
    Container.objects.filter(cluster=tenant_cluster, is_system=True).delete()
    page = client.get("/").content.decode()
    assert "Nodes ready 0/2" in page and "Consul: not checked yet" in page

    response = client.post(f"/clusters/{tenant_cluster.pk}/refresh-health/", follow=True)
    assert b"Asked cluster" in response.content

    from tests.support import wait_until

    wait_until(lambda: Node.objects.filter(cluster=tenant_cluster, state=Node.State.READY).count() == 2, timeout=60)
    wait_until(lambda: Container.objects.filter(cluster=tenant_cluster, is_system=True).count() == 2, timeout=60)
    page = client.get("/").content.decode()
    assert "Nodes ready 2/2" in page and "Consul up · 2/2 agents" in page and "Healthy" in page
