"""Containers on overlay networks against the real cluster: the tutorial, exposure, secrets, system containers."""

import json
import os
import urllib.request

import pytest

from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Container, Network, Operation
from networks.selectors.containers import container_list
from networks.services.clusters.health import cluster_refresh_health
from networks.services.containers.lifecycle import container_action_request, container_remove_exited
from networks.services.containers.run import container_run
from networks.services.containers.specs import masked_environment
from networks.services.containers.state import container_port_query, docker_time
from networks.services.diagnostics import container_diagnose
from networks.services.networks.attach import network_disconnect
from networks.services.networks.create import network_create
from networks.services.reconcile import cluster_reconcile_now
from plumbing.errors import ServiceError
from portal.actors import Actor
from tests.support import first_team, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]
TOOLS = "overlay-portal/tools:latest"


def succeed(operation):
    operation = wait_for_operation(operation)
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    return operation


def run(cluster, name, networks=(), **kwargs):
    kwargs.setdefault("image", TOOLS)
    operation = succeed(
        container_run(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            cluster=cluster,
            name=name,
            networks=[{"network": n} for n in networks],
            **kwargs,
        )
    )
    return Container.objects.get(pk=operation.container_id)


def test_the_tutorial(celery_worker_process, tenant_cluster):
    """Carina's "Use overlay networks", replayed through the portal with the tools image."""
    cluster = tenant_cluster
    # $ docker network create mynetwork
    operation = succeed(
        network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="mynetwork")
    )
    mynetwork = Network.objects.get(pk=operation.network_id)
    assert mynetwork.gateway == str(mynetwork.subnet_network.network_address + 1)

    # $ docker run --detach --name mysql --net mynetwork --env MYSQL_ROOT_PASSWORD=my-root-pw mysql:5.6
    mysql = run(
        cluster,
        "mysql",
        [mynetwork],
        command=["sh", "-c", "while true; do echo ok | nc -l -p 3306; done"],
        environment=[{"name": "MYSQL_ROOT_PASSWORD", "value": "my-root-pw", "secret": True}],
    )
    assert not mysql.is_exposed
    # $ docker port mysql 3306
    with pytest.raises(ServiceError) as excinfo:
        container_port_query(container=mysql, port="3306")
    assert excinfo.value.message == "Error: No public port '3306/tcp' published for mysql"
    # The secret reached Docker, and the portal kept only its name.
    attrs = docker_engine.inspect_container(mysql.node.docker, mysql.docker_id)
    assert "MYSQL_ROOT_PASSWORD=my-root-pw" in attrs["Config"]["Env"]
    assert "my-root-pw" not in json.dumps(mysql.environment)
    assert masked_environment(mysql) == [{"name": "MYSQL_ROOT_PASSWORD", "value": "••••••", "secret": True}]
    assert "my-root-pw" not in json.dumps([op.params for op in Operation.objects.filter(tenant=first_team(cluster))])

    # $ docker run --detach --name wordpress --net mynetwork --publish 80:80 --env WORDPRESS_DB_HOST=mysql wordpress:4.4
    wordpress = run(
        cluster,
        "wordpress",
        [mynetwork],
        ports=["80:80"],
        command=["sh", "-c", "echo wordpress-home > /tmp/index.html && exec httpd -f -p 80 -h /tmp"],
        environment=[{"name": "WORDPRESS_DB_HOST", "value": "mysql"}],
    )
    # $ docker port wordpress 80  ->  NODE_ADDRESS:80
    assert container_port_query(container=wordpress, port="80") == [f"{wordpress.node.address}:80"]
    page = urllib.request.urlopen(f"http://{wordpress.node.address}:80/", timeout=10).read().decode()
    assert "wordpress-home" in page
    # wordpress reaches mysql:3306 by name over the overlay network.
    result = container_diagnose(tenant=first_team(cluster), container=wordpress, target="mysql", port=3306)
    assert result["ok"], result
    dns, tcp = result["checks"]
    assert dns["command"] == "nslookup mysql" and dns["addresses"] == [mysql.endpoints.get().ipv4_address]
    assert tcp["command"] == "timeout 5 nc -w 3 mysql 3306" and tcp["ok"]

    # The exposure list: wordpress exposed on the node's address, mysql private.
    exposure = {c.name: c for c in container_list(tenant=first_team(cluster)).filter(is_system=False)}
    assert exposure["wordpress"].is_exposed and exposure["wordpress"].exposure == [
        f"{wordpress.node.address}:80 -> 80/tcp"
    ]
    assert not exposure["mysql"].is_exposed
    # A published container is a Consul service on its node's agent.
    services = consul_engine.services(f"http://{wordpress.node.address}:8500")
    service_id = f"overlay-portal-{cluster.uid}-{wordpress.pk}"
    assert services[service_id]["Service"] == "wordpress" and services[service_id]["Port"] == 80
    assert services[service_id]["Address"] == wordpress.node.address

    # Removing the system Consul container is refused.
    consul = Container.objects.filter(cluster=cluster, is_system=True).first()
    assert consul is not None and consul.name.startswith("op-consul-")
    with pytest.raises(ServiceError) as excinfo:
        container_action_request(
            actor=Actor.system("tests"), tenant=first_team(cluster), container=consul, action="remove"
        )
    assert "protected system container" in excinfo.value.message

    # $ docker rm $(docker ps -qf "status=exited"): running and system containers stay.
    running = Container.objects.get(pk=mysql.pk)
    assert running.started_at is not None and running.finished_at is None and running.exit_code is None
    succeed(
        container_action_request(
            actor=Actor.system("tests"), tenant=first_team(cluster), container=mysql, action="stop"
        )
    )
    stopped = Container.objects.get(pk=mysql.pk)  # what `docker ps -a` says "Exited (N) ... ago" with
    state = docker_engine.inspect_container(mysql.node.docker, mysql.docker_id)["State"]
    assert stopped.status == Container.Status.EXITED and stopped.exit_code == state["ExitCode"]
    assert stopped.started_at == running.started_at and stopped.finished_at >= stopped.started_at
    removals = container_remove_exited(actor=Actor.system("tests"), tenant=first_team(cluster))
    assert [op.target for op in removals] == ["mysql"]
    for op in removals:
        succeed(op)
    assert Container.objects.get(pk=mysql.pk).status == Container.Status.REMOVED
    assert Container.objects.get(pk=wordpress.pk).status == Container.Status.RUNNING
    assert docker_engine.inspect_container(consul.node.docker, consul.docker_id)["State"]["Running"]

    # Removing wordpress takes it off its node's Consul agent.
    succeed(
        container_action_request(
            actor=Actor.system("tests"), tenant=first_team(cluster), container=wordpress, action="remove"
        )
    )
    assert service_id not in consul_engine.services(f"http://{wordpress.node.address}:8500")


def test_spread_places_containers_on_the_emptiest_node(celery_worker_process, tenant_cluster):
    nodes = [run(tenant_cluster, f"spread{i}", command=["sleep", "600"]).node.name for i in range(4)]
    assert sorted(nodes) == ["node1", "node1", "node2", "node2"]


def test_policy_can_forbid_published_ports(tenant_cluster):
    tenant = first_team(tenant_cluster)
    tenant.allow_published_ports = False
    tenant.save()
    with pytest.raises(ServiceError) as excinfo:
        container_run(
            actor=Actor.system("tests"),
            tenant=tenant,
            cluster=tenant_cluster,
            name="web",
            image=TOOLS,
            ports=["8080:80"],
        )
    assert excinfo.value.code == "publishing_forbidden" and "Internet and ServiceNet" in excinfo.value.message


@pytest.mark.parametrize("spec", ["80:", "x:80", "70000:80", "80:80/sctp"])
def test_bad_port_specs_are_refused(tenant_cluster, spec):
    with pytest.raises(ServiceError) as excinfo:
        container_run(
            actor=Actor.system("tests"),
            tenant=first_team(tenant_cluster),
            cluster=tenant_cluster,
            name="web",
            image=TOOLS,
            ports=[spec],
        )
    assert excinfo.value.field == "ports"


def test_missing_image_is_a_sentence_not_a_trace(celery_worker_process, tenant_cluster):
    operation = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=first_team(tenant_cluster),
            cluster=tenant_cluster,
            name="ghost",
            image="mysql:5.6",
        )
    )
    assert operation.status == Operation.Status.FAILED
    node = Container.objects.get(pk=operation.container_id).node.name
    assert operation.error == (
        f"{node} does not have mysql:5.6 and docker.io could not give it: check the image's name and tag "
        "(the run form lists the images the cluster and its registry have)."
    )
    assert Container.objects.get(pk=operation.container_id).status == Container.Status.FAILED


def test_system_containers_are_listed_but_untouchable(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    system = list(container_list(tenant=first_team(cluster)).filter(is_system=True))
    assert sorted(c.name for c in system) == sorted(f"op-consul-{n.name}" for n in cluster.nodes.all())
    consul = system[0]
    made = docker_engine.inspect_container(consul.node.docker, consul.docker_id)["Created"]
    assert consul.created == docker_time(made)  # as docker ps says CREATED, not when the portal first saw it
    for action in ("stop", "restart", "remove"):
        with pytest.raises(ServiceError) as excinfo:
            container_action_request(
                actor=Actor.system("tests"), tenant=first_team(cluster), container=consul, action=action
            )
        assert excinfo.value.http_status == 403
    with pytest.raises(ServiceError):
        container_diagnose(tenant=first_team(cluster), container=consul, target="node1")
    network = Network.objects.filter(cluster=cluster, is_external=True).first()
    with pytest.raises(ServiceError):
        network_disconnect(actor=Actor.system("tests"), tenant=first_team(cluster), network=network, container=consul)


def test_diagnostics_report_a_name_that_does_not_resolve(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    net = Network.objects.get(
        pk=succeed(
            network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="lonely")
        ).network_id
    )
    probe = run(cluster, "probe", [net], command=["sleep", "600"])
    result = container_diagnose(tenant=first_team(cluster), container=probe, target="nobody-here", port=80)
    assert not result["ok"]
    assert "does not resolve" in result["checks"][0]["summary"]
    assert result["checks"][0]["command"] == "nslookup nobody-here"


def test_a_run_that_fails_on_its_node_leaves_no_container_behind(celery_worker_process, tenant_cluster):
    """Docker creates the container, then cannot start it (a host port something outside the portal
    holds): the failed run removes it from the node and gives its address back."""
    cluster = tenant_cluster
    node = cluster.nodes.get(name="node2")
    client = docker_engine.client(node.docker)
    port = 21000 + os.getpid() % 20000
    squatter = client.containers.run(TOOLS, ["sleep", "600"], detach=True, ports={"80/tcp": port}, name=f"sq{port}")
    try:
        mynetwork = Network.objects.get(
            pk=succeed(
                network_create(
                    actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="mynetwork"
                )
            ).network_id
        )
        operation = wait_for_operation(
            container_run(
                actor=Actor.system("tests"),
                tenant=first_team(cluster),
                cluster=cluster,
                name="clash",
                image=TOOLS,
                command=["sleep", "600"],
                networks=[{"network": mynetwork}],
                ports=[f"{port}:80"],
                node=node,
            )
        )
        assert operation.status == Operation.Status.FAILED and operation.error_code == "port_in_use"
        container = Container.objects.get(pk=operation.container_id)
        assert container.status == Container.Status.FAILED and not container.endpoints.exists()
        names = [c["Name"].lstrip("/") for c in docker_engine.list_containers(node.docker)]
        assert "clash" not in names, "the failed run left its container on the node"
    finally:
        squatter.remove(force=True)


def test_reconcile_removes_portal_containers_no_live_record_owns(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    node = cluster.nodes.get(name="node1")
    client = docker_engine.client(node.docker)
    labels = {"overlay-portal.managed": "true", "overlay-portal.cluster": str(cluster.uid)}
    client.containers.run(
        TOOLS,
        ["sleep", "600"],
        detach=True,
        name="left-behind",
        labels={**labels, "overlay-portal.container-id": "999999"},
    )
    kept = run(cluster, "kept", command=["sleep", "600"], node=node)
    changes = cluster_reconcile_now(cluster=cluster)
    assert any("left-behind on node1 had no live record" in change for change in changes), changes
    names = [c["Name"].lstrip("/") for c in docker_engine.list_containers(node.docker)]
    assert "left-behind" not in names and kept.name in names
    assert not any("had no live record" in change for change in cluster_reconcile_now(cluster=cluster))


def test_a_port_a_program_of_the_node_listens_on_is_learned_and_refused(celery_worker_process, tenant_cluster):
    """Something outside Docker's port publishing (here: nc on the node's own network) listens on a port;
    the health refresh learns it, and a run that would publish it is refused before anything runs."""
    cluster = tenant_cluster
    node = cluster.nodes.get(name="node2")
    client = docker_engine.client(node.docker)
    port = 41000 + os.getpid() % 20000
    listener = client.containers.run(
        TOOLS,
        ["sh", "-c", f"while true; do nc -l -p {port}; done"],
        detach=True,
        network_mode="host",
        name=f"listener{port}",
    )
    try:

        def learned():
            cluster_refresh_health(cluster=cluster)
            node.refresh_from_db()
            return [port, "tcp"] in node.listening_ports

        wait_until(learned, timeout=30)
        assert [8500, "tcp"] in node.listening_ports
        with pytest.raises(ServiceError) as refused:
            container_run(
                actor=Actor.system("tests"),
                tenant=first_team(cluster),
                cluster=cluster,
                name="web",
                image=TOOLS,
                ports=[f"{port}:80"],
                node=node,
            )
        assert f"Host port {port}/tcp on node2 is in use by a program the node itself runs" in refused.value.message
        assert not Container.objects.filter(name="web").exists()
    finally:
        listener.remove(force=True)
