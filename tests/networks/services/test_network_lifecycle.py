"""Network lifecycle through the real worker, the real local cluster and its real Consul."""

import ipaddress
import json
import re

import pytest
from django.db import connection

from networks.engine import StateStoreUnavailable
from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Cluster, Network, Operation, SubnetAllocation
from networks.selectors.allocations import cluster_capacity
from networks.services import queue
from networks.services.containers.run import container_run
from networks.services.networks.attach import network_connect, network_disconnect
from networks.services.networks.create import network_create
from networks.services.networks.inspect import network_inspect
from networks.services.networks.remove import network_remove
from networks.services.state import network_key
from networks.tasks import OperationTask, run_operation_task
from plumbing.errors import ServiceError
from portal.actors import Actor
from tests.support import consul_state, first_team, row_locked_elsewhere, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]


@pytest.fixture
def worker(celery_worker_process):
    return celery_worker_process


def create(cluster, name, **kwargs):
    operation = wait_for_operation(
        network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name=name, **kwargs)
    )
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    return Network.objects.get(pk=operation.network_id)


def run(cluster, name, networks, node=None, command=None):
    operation = container_run(
        actor=Actor.system("tests"),
        tenant=first_team(cluster),
        cluster=cluster,
        name=name,
        image="overlay-portal/tools:latest",
        command=command or ["sh", "-c", f"echo hello from {name} > /tmp/index.html && exec httpd -f -p 80 -h /tmp"],
        networks=[{"network": n} if isinstance(n, Network) else n for n in networks],
        node=cluster.nodes.get(name=node) if node else None,
    )
    operation = wait_for_operation(operation)
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    return operation.container


def exec_in(container, command):
    container.refresh_from_db()
    return docker_engine.exec_in_container(container.node.docker, container.docker_id, command)


def test_create_gets_next_free_block_and_lands_in_docker_and_consul(worker, tenant_cluster):
    cluster = tenant_cluster
    expected = cluster_capacity(cluster=cluster).next_block
    network = create(cluster, "mynetwork", labels={"team": "web"})

    assert network.status == Network.Status.ACTIVE
    # Swarm-scoped networks have 25-character IDs; the portal shows the one `docker network create` prints.
    assert re.fullmatch(r"[0-9a-z]{25}|[0-9a-f]{64}", network.docker_id)
    subnet = ipaddress.IPv4Network(network.subnet)
    assert subnet.prefixlen == 24 and network.gateway == str(subnet.network_address + 1)
    assert network.subnet == str(expected), "the next free block in Carina's order"
    assert not subnet.overlaps(ipaddress.IPv4Network("10.0.0.0/24")), "the ingress is never handed out"

    attrs = docker_engine.inspect_network(cluster.docker, network.docker_id)
    assert attrs["Id"] == network.docker_id
    assert attrs["Driver"] == "overlay" and attrs["Attachable"] is True
    assert attrs["IPAM"]["Config"][0] == {"Subnet": network.subnet, "Gateway": network.gateway}
    assert attrs["Labels"]["team"] == "web"
    assert attrs["Labels"]["overlay-portal.network-id"] == str(network.pk)

    state = consul_state(network=network)
    assert state["network"]["id"] == network.docker_id and state["network"]["subnet"] == network.subnet
    key = f"{cluster.consul_prefix}/subnets/{network.subnet.replace('/', '_')}"
    assert json.loads(consul_engine.kv_get(cluster.consul, key))["network"] == network.pk

    operation = network.operations.get()
    messages = [p["message"] for p in operation.progress]
    assert (
        messages[0].startswith("Queued")
        and "Running." in messages
        and messages[-1].startswith("Network mynetwork is active")
    )
    assert operation.started and operation.finished and operation.celery_task_id


def test_internal_and_encrypted_networks(worker, tenant_cluster):
    network = create(tenant_cluster, "secure", internal=True, encrypted=True)
    attrs = docker_engine.inspect_network(tenant_cluster.docker, network.docker_id)
    assert attrs["Internal"] is True
    assert "encrypted" in attrs["Options"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("bridge", "predefined_name"),
        ("ingress", "predefined_name"),
        ("-bad", "invalid_name"),
        ("a" * 64, "name_too_long"),
        ("", "name_required"),
    ],
)
def test_bad_names_are_refused_before_anything_is_held(tenant_cluster, name, code):
    before = SubnetAllocation.objects.count()
    with pytest.raises(ServiceError) as excinfo:
        network_create(
            actor=Actor.system("tests"), tenant=first_team(tenant_cluster), cluster=tenant_cluster, name=name
        )
    assert excinfo.value.code == code
    assert SubnetAllocation.objects.count() == before


def test_duplicate_name_is_refused(worker, tenant_cluster):
    create(tenant_cluster, "dup")
    with pytest.raises(ServiceError) as excinfo:
        network_create(
            actor=Actor.system("tests"), tenant=first_team(tenant_cluster), cluster=tenant_cluster, name="dup"
        )
    assert excinfo.value.code == "name_taken" and excinfo.value.http_status == 409


def test_connect_disconnect_dns_and_inspect_across_nodes(worker, tenant_cluster):
    cluster = tenant_cluster
    front = create(cluster, "front")
    back = create(cluster, "back")
    web = run(cluster, "web", [front], node="node1")
    probe = run(cluster, "probe", [front], node="node2", command=["sleep", "3600"])

    code, out = exec_in(probe, ["timeout", "5", "wget", "-qO-", "http://web/"])
    assert code == 0 and "hello from web" in out

    # Connect the already running web to a second network with an alias and a static address.
    static = str(ipaddress.IPv4Network(back.subnet).network_address + 20)
    op = wait_for_operation(
        network_connect(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            network=back,
            container=web,
            aliases=["www"],
            ipv4_address=static,
        )
    )
    assert op.status == Operation.Status.SUCCEEDED, op.error
    other = run(cluster, "other", [back], node="node2", command=["sleep", "3600"])
    for name in ("web", "www"):
        code, out = exec_in(other, ["nslookup", name])
        assert code == 0 and static in out, out
    code, out = exec_in(other, ["timeout", "5", "wget", "-qO-", "http://www/"])
    assert code == 0 and "hello from web" in out

    inspect = network_inspect(network=back)
    assert set(inspect) >= {
        "Name",
        "Id",
        "Created",
        "Scope",
        "Driver",
        "EnableIPv6",
        "IPAM",
        "Internal",
        "Attachable",
        "Ingress",
        "Containers",
        "Options",
        "Labels",
    }
    assert inspect["Name"] == "back" and inspect["Driver"] == "overlay" and inspect["Scope"] == "swarm"
    assert inspect["IPAM"]["Config"] == [{"Subnet": back.subnet, "Gateway": back.gateway}]
    names = {c["Name"]: c for c in inspect["Containers"].values()}
    assert set(names) == {"web", "other"}, "containers of both nodes are merged"
    assert names["web"]["IPv4Address"] == f"{static}/24"

    state = consul_state(network=back)
    assert {e["name"] for e in state["endpoints"].values()} == {"web", "other"}

    op = wait_for_operation(
        network_disconnect(actor=Actor.system("tests"), tenant=first_team(cluster), network=back, container=web)
    )
    assert op.status == Operation.Status.SUCCEEDED, op.error
    # The other node learns of the removed endpoint through the overlay's gossip, so its DNS
    # forgets the name a moment later (seconds), not necessarily at once.

    def forgotten():
        code, out = exec_in(other, ["nslookup", "web"])
        return code != 0 or static not in out

    wait_until(forgotten, timeout=30)
    assert not back.address_allocations.filter(address=static).exists(), "the address is free again"


def test_remove_refused_while_attached_then_with_disconnect_frees_subnet(worker, tenant_cluster):
    cluster = tenant_cluster
    network = create(cluster, "shop")
    for name in ("web", "db", "cache"):
        run(cluster, name, [network], command=["sleep", "3600"])
    with pytest.raises(ServiceError) as excinfo:
        network_remove(actor=Actor.system("tests"), tenant=first_team(cluster), network=network)
    assert excinfo.value.message == (
        "3 containers are still attached: cache, db, web — disconnect them first, or remove with disconnect."
    )

    op = wait_for_operation(
        network_remove(actor=Actor.system("tests"), tenant=first_team(cluster), network=network, disconnect=True)
    )
    assert op.status == Operation.Status.SUCCEEDED, op.error
    network.refresh_from_db()
    assert network.status == Network.Status.REMOVED
    assert docker_engine.find_networks(cluster.docker, id=network.docker_id) == []
    assert not SubnetAllocation.objects.filter(cluster=cluster, cidr=network.subnet).exists()
    assert consul_state(network=network) == {"network": None, "endpoints": {}}
    assert (
        consul_engine.kv_get(cluster.consul, f"{cluster.consul_prefix}/subnets/{network.subnet.replace('/', '_')}")
        is None
    )
    # First fit: the freed block is handed out again.
    assert create(cluster, "again").subnet == network.subnet


def test_duplicated_task_makes_one_docker_network(worker, tenant_cluster):
    cluster = tenant_cluster
    operation = network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="twice")
    # The same message delivered again (as after a broker redelivery), racing the first.
    run_operation_task.apply_async((operation.pk,), task_id=Operation.objects.get(pk=operation.pk).celery_task_id)
    operation = wait_for_operation(operation)
    assert operation.status == Operation.Status.SUCCEEDED
    found = docker_engine.find_networks(cluster.docker, labels=[f"overlay-portal.cluster={cluster.uid}"])
    assert [n["Name"] for n in found] == ["twice"]


def test_retried_create_adopts_the_network_an_earlier_try_made(worker, tenant_cluster):
    from networks.services.builds import network_labels

    cluster = tenant_cluster
    with worker_paused(worker):
        operation = network_create(
            actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="adopted"
        )
        # As a worker lost after Docker made the network leaves it: one delivery started, the next adopts.
        Operation.objects.filter(pk=operation.pk).update(attempts=1)
        network = operation.network
        made = docker_engine.create_overlay_network(
            cluster.docker,
            "adopted",
            subnet=network.subnet,
            gateway=network.gateway,
            labels=network_labels(network),
        )
    operation = wait_for_operation(operation)
    assert operation.status == Operation.Status.SUCCEEDED, operation.progress
    assert Network.objects.get(pk=network.pk).docker_id == made["Id"]
    assert any("earlier try" in p["message"] for p in operation.progress)


class worker_paused:
    """Stop the worker for a moment, so the test can arrange the cluster before the task runs."""

    def __init__(self, worker):
        self.worker = worker

    def __enter__(self):
        self.worker.stop()

    def __exit__(self, *exc):
        self.worker.start()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_create_runs_to_its_end_while_the_web_holds_the_swarms_lock(tenant_cluster, monkeypatch):
    """The run's steps lock the operation's and the network's rows, never the cluster's: that row is the
    swarm's lock, which every create in the web holds while it allocates, so a worker's run and the web's
    creates never wait for each other (the network's ordering by its cluster's name took it with them).
    Run here as a worker runs it, the message kept from any worker."""
    cluster = tenant_cluster
    monkeypatch.setattr(queue, "send", lambda *args, **kwargs: None)
    operation = network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="aside")

    with row_locked_elsewhere(Cluster, cluster.pk):
        run_operation_task.apply((operation.pk,), task_id=Operation.objects.get(pk=operation.pk).celery_task_id)

    operation.refresh_from_db()
    assert operation.status == Operation.Status.SUCCEEDED, operation.progress
    assert Network.objects.get(pk=operation.network_id).status == Network.Status.ACTIVE


def test_a_create_whose_document_consul_refuses_is_not_made_active(tenant_cluster, monkeypatch):
    """The network is made active and its operation succeeded only once Consul has its document: a refused
    write leaves the network not active, its operation not succeeded and saying it waits on the state store,
    and no document. Run here as a worker runs it, the message kept from any worker."""
    cluster = tenant_cluster
    monkeypatch.setattr(queue, "send", lambda *args, **kwargs: None)
    put = consul_engine.kv_put

    def refusing_documents(endpoint, key, value, **kwargs):
        if "/networks/" in key:
            raise StateStoreUnavailable(raw="the agent refused the write (test)")
        return put(endpoint, key, value, **kwargs)

    monkeypatch.setattr(consul_engine, "kv_put", refusing_documents)
    operation = network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="nodoc")
    task_id = Operation.objects.get(pk=operation.pk).celery_task_id

    run_operation_task.apply((operation.pk,), task_id=task_id, retries=OperationTask.max_retries)

    operation.refresh_from_db()
    network = Network.objects.get(pk=operation.network_id)
    assert operation.status != Operation.Status.SUCCEEDED and network.status != Network.Status.ACTIVE
    assert any("state store" in note["message"] for note in operation.progress), operation.progress
    assert consul_engine.kv_get(cluster.consul, network_key(network)) is None
