"""Creates at once on one swarm, from threads of their own (a connection each), as 50 POSTs at once make them:
each reads the held blocks in the round trip that takes the swarm's lock, after it, so each sees the block
and the floor the lock's last holder wrote (a /23 may land above the floor, past a /24 hole: the next /23 must
see it). Every network gets a block of its own, first fit. Two teams share the swarm's address space."""

from __future__ import annotations

import ipaddress
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from networks.models import Cluster, Network, SubnetAllocation
from networks.services import queue
from networks.services.grants import cluster_grant
from networks.services.networks.create import network_create
from portal.actors import Actor
from tests.factories import make_team

pytestmark = pytest.mark.django_db(transaction=True)  # outside a test transaction, as requests are
AT_ONCE = 24
SIZES = (23, 24, 24)  # a /23 lands above an odd floor: the next ones must see it held


@pytest.fixture(autouse=True)
def nothing_reaches_a_worker(monkeypatch):
    """The operations are recorded as sent but reach no worker (as in test_network_name_race.py)."""
    monkeypatch.setattr(queue, "send", lambda *args, **kwargs: None)


def test_creates_at_once_each_get_a_block_of_their_own_first_fit():
    if connection.vendor != "postgresql":
        pytest.skip("row locks that make creates queue need PostgreSQL (SQLite takes one writer at a time)")
    owner, other = make_team(), make_team()
    cluster = owner.cluster
    cluster_grant(actor=Actor.system("tests"), cluster=cluster, tenant=other.tenant)
    started = threading.Barrier(AT_ONCE)

    def create(i: int) -> int:
        try:
            started.wait()
            team = (owner, other)[i % 2]
            return network_create(
                actor=Actor.system("tests"), tenant=team.tenant, cluster=cluster, name=f"n{i}", prefixlen=SIZES[i % 3]
            ).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(AT_ONCE) as pool:
        list(pool.map(create, range(AT_ONCE)))

    blocks = sorted(ipaddress.IPv4Network(subnet) for subnet in Network.objects.values_list("subnet", flat=True))
    assert len(blocks) == AT_ONCE
    assert [block.prefixlen for block in blocks].count(23) == AT_ONCE // 3
    assert not any(a.overlaps(b) for a, b in zip(blocks, blocks[1:], strict=False)), "no two networks share an address"
    held = sorted(
        SubnetAllocation.objects.filter(cluster=cluster, network__isnull=False).values_list("cidr", flat=True)
    )
    assert sorted(map(str, blocks)) == held
    floor = Cluster.objects.get(pk=cluster.pk).allocation_floor
    # first fit: every /24 below the floor is held (a /23 may leave a /24 hole above it for a /24 to fill)
    assert floor is not None and floor > int(blocks[0].network_address)
    assert all(
        any(a.overlaps(block) for block in blocks)
        for a in ipaddress.summarize_address_range(blocks[0].network_address, ipaddress.IPv4Address(floor - 1))
    )
