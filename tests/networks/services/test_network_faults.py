"""What happens when things go wrong: drift made outside the portal, an unreachable cluster, a dead worker."""

import os
import signal

import pytest

from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Cluster, ClusterGrant, Network, Operation, SubnetAllocation
from networks.services.networks.create import network_create
from networks.services.reconcile import cluster_reconcile_now
from networks.services.state import network_key
from portal.actors import Actor
from tests.support import first_team, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]


def create(cluster, name, **kwargs):
    operation = wait_for_operation(
        network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name=name, **kwargs)
    )
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    return Network.objects.get(pk=operation.network_id)


def test_reconcile_repairs_drift_made_with_the_docker_cli(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    assert cluster_reconcile_now(cluster=cluster) == [], "nothing changes when all agree"
    kept = create(cluster, "kept")
    doomed = create(cluster, "doomed")

    # Drift: a network removed behind the portal's back, one made outside it, a Consul key lost.
    docker_engine.remove_network(cluster.docker, doomed.docker_id)
    outside = docker_engine.create_overlay_network(
        cluster.docker,
        "cli-made",
        subnet="10.99.0.0/24",
        gateway="10.99.0.1",
        labels={"overlay-portal.cluster": str(cluster.uid)},  # so the fixture cleans it up
    )
    consul_engine.kv_delete(cluster.consul, network_key(kept))

    changes = cluster_reconcile_now(cluster=cluster)

    assert any('"doomed" was removed outside the portal' in c for c in changes)
    assert any('"cli-made" was made outside the portal' in c and "10.99.0.0/24 blocked" in c for c in changes)
    assert any('network "kept" was missing' in c for c in changes)
    doomed.refresh_from_db()
    assert doomed.status == Network.Status.REMOVED
    assert not SubnetAllocation.objects.filter(cluster=cluster, cidr=doomed.subnet).exists()
    external = Network.objects.get(cluster=cluster, name="cli-made")
    assert external.is_external and external.docker_id == outside["Id"]
    assert SubnetAllocation.objects.get(cluster=cluster, cidr="10.99.0.0/24").kind == "external"
    assert consul_engine.kv_get(cluster.consul, network_key(kept)) is not None
    assert cluster_reconcile_now(cluster=cluster) == [], "a second pass finds nothing left to do"


def test_reconcile_runs_as_an_operation_on_the_worker(celery_worker_process, tenant_cluster):
    from networks.services.reconcile import cluster_reconcile_request

    operation = wait_for_operation(cluster_reconcile_request(cluster=tenant_cluster))
    assert operation.status == Operation.Status.SUCCEEDED
    assert operation.result == {"changes": []}


def test_unreachable_cluster_shows_waiting_and_keeps_the_subnet(celery_worker_process, tenant_cluster):
    cluster = Cluster.objects.create(
        name="offline", docker_endpoint="tcp://127.0.0.1:9", consul_address="http://127.0.0.1:9"
    )
    ClusterGrant.objects.create(cluster=cluster, tenant=first_team(tenant_cluster))
    operation = network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="later")
    waiting = wait_until(
        lambda: (op := Operation.objects.get(pk=operation.pk)).status == Operation.Status.QUEUED
        and any(p["message"].startswith("Waiting for the cluster") for p in op.progress)
        and op,
        timeout=60,
    )
    assert "state store" in waiting.progress[-1]["message"]
    assert SubnetAllocation.objects.filter(cluster=cluster).count() == 1, "the block stays held while it retries"
    Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.FAILED, error="test over")


def test_worker_killed_mid_create_is_finished_by_the_next_worker(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    worker = celery_worker_process
    manager_pid = int(open("/run/overlay-portal/node1/docker.pid").read())
    os.kill(manager_pid, signal.SIGSTOP)  # the manager hangs: the create is caught mid-flight
    try:
        operation = network_create(
            actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="survivor"
        )
        wait_until(lambda: Operation.objects.get(pk=operation.pk).status == Operation.Status.RUNNING, timeout=60)
        worker.kill()
    finally:
        os.kill(manager_pid, signal.SIGCONT)
    assert Operation.objects.get(pk=operation.pk).status == Operation.Status.RUNNING, "the dead worker left it running"

    worker.start()  # the next worker finds the orphan and hands it over
    operation = wait_for_operation(operation, timeout=180)
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    assert any("another worker takes it over" in p["message"] for p in operation.progress)
    found = docker_engine.find_networks(cluster.docker, labels=[f"overlay-portal.cluster={cluster.uid}"])
    assert [n["Name"] for n in found] == ["survivor"], "exactly one Docker network"
