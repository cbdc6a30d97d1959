"""Consul stopped on the real cluster: an operation waits for it up to STATE_STORE_WAIT_SECONDS (15 s in
the tests), saying so, then fails with a sentence naming the agent that is down; nothing is left held."""

import pytest

from networks.engine import EngineError
from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Network, Operation, SubnetAllocation
from networks.services.networks.create import network_create
from portal.actors import Actor
from tests.support import first_team, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]


def consul_has_a_leader(address: str) -> bool:
    try:
        return bool(consul_engine.leader(address))
    except EngineError:
        return False


def test_a_create_waits_for_consul_then_fails_naming_the_stopped_agent(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    node1 = cluster.nodes.get(name="node1")
    agent = docker_engine.client(node1.docker).containers.get("op-consul-node1")
    agent.stop(timeout=5)
    try:
        operation = network_create(
            actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="needs-consul"
        )
        wait_until(
            lambda: any(
                p["message"].startswith("Waiting for the cluster: The cluster's state store (Consul) does not answer")
                for p in Operation.objects.get(pk=operation.pk).progress
            ),
            timeout=60,
        )
        operation = wait_for_operation(operation, timeout=180)
        assert operation.status == Operation.Status.FAILED and operation.error_code == "state_store_unavailable"
        assert "The Consul agent op-consul-node1 on node1 is not running." in operation.error
        assert "rebuild" not in operation.error
        network = Network.objects.get(pk=operation.network_id)
        assert network.status == Network.Status.FAILED
        assert not SubnetAllocation.objects.filter(cluster=cluster, network=network).exists()
    finally:
        agent.start()
        wait_until(lambda: consul_has_a_leader(cluster.consul), timeout=60)
