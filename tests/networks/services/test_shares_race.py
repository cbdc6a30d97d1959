"""A team's run or connect on a network another team shares with it, while the owner stops sharing
(with `disconnect`): on the real local swarm with a real worker, it either finishes before the unshare
(and is then disconnected like any container) or fails with a sentence naming the unshare, and
leaves nothing on the node; never `internal_error`."""

import pytest
from django.db import transaction

from networks import labels as docker_labels
from networks.engine import docker as docker_engine
from networks.models import Container, Network, Operation
from networks.services.containers.run import container_run
from networks.services.grants import cluster_grant
from networks.services.networks.attach import network_connect
from networks.services.networks.create import network_create
from networks.services.shares import network_share, network_unshare
from portal.actors import Actor
from portal.services import tenant_create
from tests.support import first_team, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]
TOOLS = "overlay-portal/tools:latest"


@pytest.fixture
def shared_network(celery_worker_process, tenant_cluster):
    """The owner's network "db", shared with a second team granted the same swarm."""
    owner = first_team(tenant_cluster)
    other = tenant_create(name=f"Second {tenant_cluster.pk}")
    cluster_grant(actor=Actor.system("tests"), cluster=tenant_cluster, tenant=other)
    operation = wait_for_operation(
        network_create(actor=Actor.system("tests"), tenant=owner, cluster=tenant_cluster, name="db")
    )
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    network = Network.objects.get(pk=operation.network_id)
    network_share(actor=Actor.system("tests"), tenant=owner, network=network, with_tenant=other.slug)
    return owner, other, network


def run_app(other, network) -> Operation:
    return container_run(
        actor=Actor.system("tests"),
        tenant=other,
        cluster=network.cluster,
        name="app",
        image=TOOLS,
        command=["sleep", "3600"],
        networks=[{"network": network}],
        node=network.cluster.nodes.get(name="node2"),
    )


def in_docker(container: Container) -> list[dict]:
    selector = docker_labels.selector(
        **{docker_labels.CLUSTER: container.cluster.uid, docker_labels.CONTAINER_ID: container.pk}
    )
    return docker_engine.list_containers(container.node.docker, label=selector)


def assert_failed_naming_the_unshare(run: Operation, owner, other) -> None:
    run = wait_for_operation(run)
    assert (run.status, run.error_code) == (Operation.Status.FAILED, "network_unshared"), (run.error_code, run.error)
    assert run.error == (
        f"{owner.name} stopped sharing db with {other.name} before app was running on it, so app was not started. "
        f"Run it again on a network {other.name} owns or one still shared with it."
    )
    container = Container.objects.get(pk=run.container_id)
    assert container.status == Container.Status.FAILED
    assert not container.endpoints.exists()
    assert in_docker(container) == [], "the run's clean-up took its container off the node"


def test_a_run_still_queued_when_its_network_is_unshared_fails_naming_the_unshare(shared_network):
    owner, other, network = shared_network
    with transaction.atomic():  # the run's message leaves at commit: the unshare is wholly before its start
        run = run_app(other, network)
        assert (
            network_unshare(
                actor=Actor.system("tests"), tenant=owner, network=network, with_tenant=other.slug, disconnect=True
            )
            == []
        )
    assert_failed_naming_the_unshare(run, owner, other)


def test_an_unshare_while_the_run_is_starting_its_container_fails_the_run_by_name(shared_network):
    owner, other, network = shared_network
    run = run_app(other, network)
    with transaction.atomic():
        # Holding the container's row, the test stops the worker where it records the container Docker
        # started; the unshare comes in that very moment (the probe's internal_error).
        Container.objects.select_for_update().get(pk=run.container_id)
        wait_until(lambda: in_docker(run.container), timeout=60)
        assert Operation.objects.get(pk=run.pk).status == Operation.Status.RUNNING
        assert (
            network_unshare(
                actor=Actor.system("tests"), tenant=owner, network=network, with_tenant=other.slug, disconnect=True
            )
            == []
        )
    assert_failed_naming_the_unshare(run, owner, other)
    assert not network.address_allocations.exists(), "the address Docker gave it is free again"


def test_a_run_finished_before_the_unshare_is_disconnected_like_any_container(shared_network):
    owner, other, network = shared_network
    run = wait_for_operation(run_app(other, network))
    assert run.status == Operation.Status.SUCCEEDED, run.error
    (disconnect,) = network_unshare(
        actor=Actor.system("tests"), tenant=owner, network=network, with_tenant=other.slug, disconnect=True
    )
    disconnect = wait_for_operation(disconnect)
    assert disconnect.status == Operation.Status.SUCCEEDED, disconnect.error
    (attrs,) = in_docker(run.container)
    assert network.name not in attrs["NetworkSettings"]["Networks"]
    assert not run.container.endpoints.exists()


def on_db(container: Container) -> bool:
    attrs = docker_engine.inspect_container(container.node.docker, container.docker_id)
    return "db" in attrs["NetworkSettings"]["Networks"]


@pytest.fixture
def app(shared_network):
    """The second team's container "app", running on no network of the portal's yet."""
    _, other, network = shared_network
    run = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=other,
            cluster=network.cluster,
            name="app",
            image=TOOLS,
            command=["sleep", "3600"],
        )
    )
    assert run.status == Operation.Status.SUCCEEDED, run.error
    return Container.objects.get(pk=run.container_id)


def assert_connect_failed_naming_the_unshare(connect: Operation, owner, other, app: Container) -> None:
    connect = wait_for_operation(connect)
    assert (connect.status, connect.error_code) == (Operation.Status.FAILED, "network_unshared"), connect.error
    assert connect.error == (
        f"{owner.name} stopped sharing db with {other.name} before app was connected to it, so it was not "
        f"connected. Connect it to a network {other.name} owns or one still shared with it."
    )
    assert not app.endpoints.exists()
    assert not on_db(app), "the connect's clean-up took it off the network in Docker"
    app.refresh_from_db()
    assert app.status == Container.Status.RUNNING


def test_a_connect_still_queued_when_its_network_is_unshared_fails_naming_the_unshare(shared_network, app):
    owner, other, network = shared_network
    with transaction.atomic():
        connect = network_connect(actor=Actor.system("tests"), tenant=other, network=network, container=app)
        assert (
            network_unshare(
                actor=Actor.system("tests"), tenant=owner, network=network, with_tenant=other.slug, disconnect=True
            )
            == []
        )
    assert_connect_failed_naming_the_unshare(connect, owner, other, app)


def test_an_unshare_while_the_connect_is_under_way_fails_it_and_takes_it_off_the_network(shared_network, app):
    owner, other, network = shared_network
    connect = network_connect(actor=Actor.system("tests"), tenant=other, network=network, container=app)
    with transaction.atomic():
        # Holding the container's row, the test stops the worker at the connect's last step, after
        # Docker connected it; the unshare comes in that very moment.
        Container.objects.select_for_update().get(pk=app.pk)
        wait_until(lambda: on_db(app), timeout=60)
        assert (
            network_unshare(
                actor=Actor.system("tests"), tenant=owner, network=network, with_tenant=other.slug, disconnect=True
            )
            == []
        )
    assert_connect_failed_naming_the_unshare(connect, owner, other, app)
    assert not network.address_allocations.exists(), "the address Docker gave it is free again"
