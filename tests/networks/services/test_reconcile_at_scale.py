"""Reconcile on a busy swarm: as many SQL queries among 300 networks as among 20, and a Consul pass that
reads key by key only what changed since the last one still repairs every kind of drift.

The rows are made in bulk without a Docker id (as bench/scale.py makes them): to reconcile they are networks
it cannot look up in Docker, so the swarm stays as the fixture left it.
"""

import ipaddress
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from networks.engine import consul as consul_engine
from networks.models import Network
from networks.services.reconcile import cluster_reconcile_now
from networks.services.state import network_key, subnet_key
from tests.pages import hold_blocks
from tests.support import first_team

pytestmark = pytest.mark.cluster


def add_rows(cluster, count: int, start: int = 0) -> list[Network]:
    team = first_team(cluster)
    blocks = [ipaddress.IPv4Network(f"10.{200 + i // 256}.{i % 256}.0/24") for i in range(start, start + count)]
    networks = Network.objects.bulk_create(
        Network(
            tenant=team,
            cluster=cluster,
            name=f"bulk-{start + i}",
            subnet=str(block),
            gateway=str(block.network_address + 1),
            status=Network.Status.ACTIVE,
        )
        for i, block in enumerate(blocks)
    )
    hold_blocks(cluster, networks)
    return networks


def queries(cluster) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        changes = cluster_reconcile_now(cluster=cluster)
    return len(captured), changes


def test_a_reconcile_makes_as_many_queries_among_300_networks_as_among_20(tenant_cluster):
    cluster = tenant_cluster
    counts = []
    for size, start in ((20, 0), (280, 20)):
        add_rows(cluster, size, start)
        cluster_reconcile_now(cluster=cluster)  # writes the new rows' keys
        steady, changes = queries(cluster)
        assert changes == []
        changed = Network.objects.filter(cluster=cluster, name="bulk-3").get()
        changed.labels = {"size": str(size)}
        changed.save()
        after_one_change, changes = queries(cluster)
        assert changes == ['Consul key for network "bulk-3" was stale: rewritten.']
        counts.append((steady, after_one_change))
    assert counts[0] == counts[1]


def test_drift_in_consul_is_repaired_after_a_pass_that_found_none(tenant_cluster):
    cluster = tenant_cluster
    networks = add_rows(cluster, 30)
    cluster_reconcile_now(cluster=cluster)
    assert cluster_reconcile_now(cluster=cluster) == []
    address = cluster.consul
    one, two, three = (Network.objects.get(pk=n.pk) for n in networks[:3])
    consul_engine.kv_delete(address, network_key(one))
    consul_engine.kv_put(address, network_key(two), json.dumps({"name": "someone else's"}))
    consul_engine.kv_delete(address, subnet_key(cluster, three.subnet))
    stray = f"{cluster.consul_prefix}/networks/999999"
    consul_engine.kv_put(address, stray, "{}")
    assert sorted(cluster_reconcile_now(cluster=cluster)) == sorted(
        [
            f'Consul key for network "{one.name}" was missing: rewritten.',
            f'Consul key for network "{two.name}" was stale: rewritten.',
            f"Consul reservation for {three.subnet} was missing: rewritten.",
            f"Stale Consul key {stray} removed.",
        ]
    )
    assert cluster_reconcile_now(cluster=cluster) == []
