"""A batch's creates run together by the real worker (`networks.run_operations`) on the real local cluster:
each network that fails fails alone, as its single create would, and a dead worker's batch is recovered."""

import os
import signal

import pytest

from networks.engine import docker as docker_engine
from networks.engine.inspect import MTU_OPTION
from networks.models import Network, Operation
from networks.services import queue
from networks.services.networks.batch import BatchItem, networks_create_batch
from networks.services.networks.run_together import networks_create_run_together
from networks.services.operations import operations_start
from portal.actors import Actor
from tests.support import consul_state, first_team, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]


def batch(cluster, items: list[dict]) -> list[Operation]:
    outcomes = networks_create_batch(
        actor=Actor.system("tests"),
        tenant=first_team(cluster),
        items=[BatchItem(index=i, name=f["name"], cluster=cluster, fields=f) for i, f in enumerate(items)],
    )
    assert all(outcome.error is None for outcome in outcomes), [outcome.error for outcome in outcomes]
    return [outcome.operation for outcome in outcomes]


def test_a_batch_runs_together_and_a_refused_network_fails_alone(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    # A block the swarm holds with a network the portal does not know of (made since the last reconcile).
    docker_engine.create_overlay_network(
        cluster.docker,
        "cli-held",
        subnet="10.98.0.0/24",
        gateway="10.98.0.1",
        labels={"overlay-portal.cluster": str(cluster.uid)},  # so the fixture cleans it up
    )
    items = [{"name": f"together-{i}"} for i in range(9)]
    items.insert(4, {"name": "clashing", "subnet": "10.98.0.0/24"})
    operations = [wait_for_operation(operation) for operation in batch(cluster, items)]

    assert len({operation.celery_task_id for operation in operations}) == 1, "one message for the slice"
    clashing = operations.pop(4)
    assert clashing.status == Operation.Status.FAILED
    assert clashing.error_code == "network_broken"
    assert "it clashes with a network the swarm already has on 10.98.0.0/24" in clashing.error
    assert Network.objects.get(pk=clashing.network_id).status == Network.Status.FAILED
    for operation in operations:
        assert operation.status == Operation.Status.SUCCEEDED, operation.error
        network = Network.objects.get(pk=operation.network_id)
        assert network.status == Network.Status.ACTIVE and network.docker_id
        assert operation.progress[-1]["message"] == f"Network {network.name} is active: {network.docker_id}"
        assert [p["message"] for p in operation.progress[1:-1]] == [
            "Running.",
            f"Reserving {network.subnet} in the cluster's state store.",
            f"Creating overlay network {network.name} on {network.subnet}.",
            "Writing the network to the cluster's state store.",
        ]
        assert consul_state(network)["network"]["id"] == network.docker_id
    found = docker_engine.find_networks(cluster.docker, labels=[f"overlay-portal.cluster={cluster.uid}"])
    assert sorted(n["Name"] for n in found) == sorted(["cli-held", *(f"together-{i}" for i in range(9))])


def test_a_dead_workers_batch_is_finished_by_the_next_worker(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    worker = celery_worker_process
    manager_pid = int(open("/run/overlay-portal/node1/docker.pid").read())
    os.kill(manager_pid, signal.SIGSTOP)  # the manager hangs: the creates are caught mid-flight
    try:
        operations = batch(cluster, [{"name": f"survivor-{i}"} for i in range(3)])
        wait_until(
            lambda: all(Operation.objects.get(pk=op.pk).status == Operation.Status.RUNNING for op in operations),
            timeout=60,
        )
        worker.kill()
    finally:
        os.kill(manager_pid, signal.SIGCONT)

    worker.start()  # the next worker finds the orphans and hands each to a run of its own
    for operation in operations:
        operation = wait_for_operation(operation, timeout=180)
        assert operation.status == Operation.Status.SUCCEEDED, operation.error
        assert any("another worker takes it over" in p["message"] for p in operation.progress)
    found = docker_engine.find_networks(cluster.docker, labels=[f"overlay-portal.cluster={cluster.uid}"])
    assert sorted(n["Name"] for n in found) == [f"survivor-{i}" for i in range(3)], "exactly one Docker network each"


def test_a_slice_reads_what_the_swarm_built_by_a_list_not_an_inspect_each(tenant_cluster, monkeypatch):
    """The slice's networks are checked as built from one `docker network ls` of their ids (a manager lists a
    swarm network as it inspects it), run here in the test's process as a worker runs it. The message is kept
    from any worker: the session's, started by an earlier test, would run the same task's operations beside it."""
    cluster = tenant_cluster
    monkeypatch.setattr(queue, "send", lambda *args, **kwargs: None)
    queued = batch(cluster, [{"name": "listed-0"}, {"name": "listed-1", "mtu": 1400, "internal": True}])
    operations = operations_start(operation_ids=[op.pk for op in queued], task_id=queued[0].celery_task_id)
    inspected: list[str] = []
    inspect = docker_engine.network_allocated
    monkeypatch.setattr(
        docker_engine,
        "network_allocated",
        lambda endpoint, pk, **kw: inspected.append(pk) or inspect(endpoint, pk, **kw),
    )
    failed: list = []

    networks_create_run_together(operations=operations, failed=lambda *args: failed.append(args))

    assert failed == [] and inspected == []
    for operation in operations:
        operation.refresh_from_db()
        assert operation.status == Operation.Status.SUCCEEDED, operation.error
        network = Network.objects.get(pk=operation.network_id)
        built = docker_engine.inspect_network(cluster.docker, network.docker_id)
        assert (built["Name"], built["IPAM"]["Config"][0]["Subnet"]) == (network.name, network.subnet)
    assert docker_engine.inspect_network(cluster.docker, network.docker_id)["Options"][MTU_OPTION] == "1400"


def test_networks_allocated_leaves_out_a_network_the_swarm_does_not_list(tenant_cluster):
    cluster = tenant_cluster
    made = docker_engine.overlay_network_create(
        cluster.docker,
        "listed-alone",
        subnet="10.98.1.0/24",
        gateway="10.98.1.1",
        labels={"overlay-portal.cluster": str(cluster.uid)},  # so the fixture cleans it up
    )
    gone = "0" * len(made)

    found = docker_engine.networks_allocated(cluster.docker, [made, gone])

    assert list(found) == [made]
    assert found[made] == docker_engine.inspect_network(cluster.docker, made)
