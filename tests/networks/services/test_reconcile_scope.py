"""The events follower's reconcile, of the swarm's networks only: a network made on the CLI is imported with
its Consul keys, one removed on the CLI is freed with them, in one change each; drift in Consul waits for
the reconcile of everything (staff's button, the periodic one), which repairs it."""

import json

import pytest

from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Network, SubnetAllocation
from networks.services.reconcile import cluster_reconcile_now
from networks.services.state import network_key, subnet_key
from tests.networks.services.test_reconcile_at_scale import add_rows

pytestmark = pytest.mark.cluster


def test_a_cli_network_is_imported_and_freed_with_its_consul_keys(tenant_cluster):
    cluster = tenant_cluster
    cluster_reconcile_now(cluster=cluster)
    subnet = "10.98.0.0/24"
    # $ docker network create --driver overlay --subnet 10.98.0.0/24 cli-scope
    made = docker_engine.create_overlay_network(
        cluster.docker, "cli-scope", subnet=subnet, gateway="10.98.0.1", labels={}
    )
    try:
        changes = cluster_reconcile_now(cluster=cluster, networks_only=True)
        assert changes == [
            'Network "cli-scope" was made outside the portal: imported as external, 10.98.0.0/24 blocked.'
        ]
        network = Network.objects.get(cluster=cluster, name="cli-scope")
        allocation = SubnetAllocation.objects.get(cluster=cluster, cidr=subnet)
        document = json.loads(consul_engine.kv_get(cluster.consul, network_key(network)))
        assert document["name"] == "cli-scope" and document["subnet"] == subnet
        reservation = json.loads(consul_engine.kv_get(cluster.consul, subnet_key(cluster, subnet)))
        assert reservation["allocation"] == allocation.pk and reservation["network"] == network.pk
        assert cluster_reconcile_now(cluster=cluster) == [], "the keys are what the Consul pass would write"
    finally:
        # $ docker network rm cli-scope
        docker_engine.remove_network(cluster.docker, made["Id"])
    assert cluster_reconcile_now(cluster=cluster, networks_only=True) == [
        'Network "cli-scope" was removed outside the portal: marked gone, 10.98.0.0/24 freed.'
    ]
    assert consul_engine.kv_get(cluster.consul, network_key(network)) is None
    assert consul_engine.kv_get(cluster.consul, subnet_key(cluster, subnet)) is None
    assert cluster_reconcile_now(cluster=cluster) == [], "no stale key left for the Consul pass"


def test_drift_in_consul_waits_for_the_reconcile_of_everything(tenant_cluster):
    cluster = tenant_cluster
    one = add_rows(cluster, 3)[0]
    cluster_reconcile_now(cluster=cluster)
    consul_engine.kv_delete(cluster.consul, network_key(one))
    assert cluster_reconcile_now(cluster=cluster, networks_only=True) == []
    assert consul_engine.kv_get(cluster.consul, network_key(one)) is None
    assert cluster_reconcile_now(cluster=cluster) == [f'Consul key for network "{one.name}" was missing: rewritten.']
