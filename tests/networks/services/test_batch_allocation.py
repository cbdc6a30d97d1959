"""A batch chooses its blocks in memory from the held ones it read once (allocations.py,
`subnets_batch_begin`): whatever the holes, sizes and subnets asked, it gets what the same creates made one
by one get, past the blocks it read (where it asks the database) as well as within them."""

from __future__ import annotations

import pytest

from networks.models import Network
from networks.services.allocations import subnet_import_external
from networks.services.networks.batch import BatchItem, networks_create_batch
from networks.services.networks.create import network_create
from plumbing.errors import ServiceError
from portal.actors import Actor
from tests.factories import make_team

pytestmark = pytest.mark.django_db

ITEMS = [
    *({"name": f"hole{i}"} for i in range(6)),
    {"name": "wide", "prefixlen": 22},  # fits no hole: past every block the batch read
    {"name": "asked", "subnet": "10.0.210.0/24"},
    {"name": "after-wide"},
    {"name": "on-a-batch-block", "subnet": "10.0.7.0/25"},  # hole3's block, held by the batch a moment ago
    {"name": "on-the-wide-one", "subnet": "10.0.202.0/24"},
    {"name": "on-a-held-one", "subnet": "10.0.4.0/24"},
    *({"name": f"more{i}", "prefixlen": 25} for i in range(4)),
]


def fragmented_team():
    """A swarm whose every other /24 from 10.0.0.0 to 10.0.199.0 is held by networks made outside the portal."""
    team = make_team()
    for third in range(0, 200, 2):
        subnet_import_external(cluster=team.cluster, cidr=f"10.0.{third}.0/24", owner="cli")
    return team


def outcome(network: Network | None, error: ServiceError | dict | None) -> tuple:
    if network is not None:
        return network.name, network.subnet
    assert isinstance(error, ServiceError)
    return error.code, error.message


def test_a_batch_gets_the_blocks_the_same_creates_one_by_one_get():
    alone = fragmented_team()
    one_by_one = []
    for fields in ITEMS:
        try:
            operation = network_create(
                actor=Actor.system("tests"), tenant=alone.tenant, cluster=alone.cluster, **fields
            )
            one_by_one.append(outcome(operation.network, None))
        except ServiceError as error:
            one_by_one.append(outcome(None, error))

    together = fragmented_team()
    outcomes = networks_create_batch(
        actor=Actor.system("tests"),
        tenant=together.tenant,
        items=[BatchItem(index=i, name=f["name"], cluster=together.cluster, fields=f) for i, f in enumerate(ITEMS)],
    )
    in_a_batch = [outcome(o.operation.network if o.operation else None, o.error) for o in outcomes]

    assert in_a_batch == one_by_one
    assert ("wide", "10.0.200.0/22") in in_a_batch and ("hole3", "10.0.7.0/24") in in_a_batch
    assert [code for code, _ in in_a_batch[9:12]] == ["overlaps_network"] * 3, in_a_batch[9:12]
    together.cluster.refresh_from_db()
    alone.cluster.refresh_from_db()
    assert together.cluster.allocation_floor == alone.cluster.allocation_floor
