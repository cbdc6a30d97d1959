"""Fifty allocations at once, from threads and from separate processes, never share a block.

Runs against the test database (PostgreSQL in CI) and the local cluster's real Consul, whose
keys must agree with the database afterwards.
"""

import ipaddress
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from networks.engine import consul as consul_engine
from networks.models import SubnetAllocation
from networks.services.allocations import (
    SubnetConflict,
    subnet_allocate,
    subnet_import_external,
    subnet_reserve_in_consul,
)
from portal.services import tenant_create
from tests.factories import register_local
from tests.support import database_url

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def cluster(cluster_description):
    tenant = tenant_create(name="Concurrency")
    cluster = register_local(tenant, cluster_description)
    subnet_import_external(cluster=cluster, cidr="10.0.0.0/24", owner='external network "ingress"')
    yield cluster
    consul_engine.kv_delete(cluster.consul, cluster.consul_prefix, recurse=True)


def consul_subnets(cluster) -> set[str]:
    tree = consul_engine.kv_get_tree(cluster.consul, f"{cluster.consul_prefix}/subnets/")
    return {key.rsplit("/", 1)[1].replace("_", "/") for key in tree}


def assert_distinct_and_disjoint(cidrs):
    nets = sorted(ipaddress.IPv4Network(c) for c in cidrs)
    assert len(set(nets)) == len(nets)
    for a, b in zip(nets, nets[1:], strict=False):
        assert not a.overlaps(b), (a, b)


def test_fifty_threads_get_fifty_distinct_blocks(cluster):
    def one(index):
        try:
            allocation = subnet_allocate(cluster=cluster, owner=f"thread-{index}")
            subnet_reserve_in_consul(allocation=allocation)
            return allocation.cidr
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        cidrs = list(pool.map(one, range(50)))

    assert len(cidrs) == 50
    assert_distinct_and_disjoint(cidrs + ["10.0.0.0/24"])
    # First fit with no gaps: exactly the fifty blocks after the ingress.
    assert sorted(cidrs, key=lambda c: ipaddress.IPv4Network(c)) == [f"10.0.{i}.0/24" for i in range(1, 51)]
    db = set(SubnetAllocation.objects.filter(cluster=cluster, kind="network").values_list("cidr", flat=True))
    assert db == set(cidrs) == consul_subnets(cluster)


def test_five_processes_of_ten_get_fifty_distinct_blocks(cluster):
    env = dict(os.environ, DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="tests.settings")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.networks.services.allocate_many", str(cluster.pk), "10", f"proc{i}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(5)
    ]
    cidrs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        cidrs += out.split()

    assert len(cidrs) == 50
    assert_distinct_and_disjoint(cidrs + ["10.0.0.0/24"])
    db = set(SubnetAllocation.objects.filter(cluster=cluster, kind="network").values_list("cidr", flat=True))
    assert db == set(cidrs) == consul_subnets(cluster)


def test_consul_refuses_a_second_writer_of_a_block(cluster):
    allocation = subnet_allocate(cluster=cluster, owner="first")
    subnet_reserve_in_consul(allocation=allocation)
    subnet_reserve_in_consul(allocation=allocation)  # a retried task: its own key is fine

    impostor = SubnetAllocation(pk=allocation.pk + 10_000, cluster=cluster, cidr=allocation.cidr, owner="other")
    with pytest.raises(SubnetConflict) as excinfo:
        subnet_reserve_in_consul(allocation=impostor)
    assert "already reserved in the cluster's state store" in excinfo.value.message
