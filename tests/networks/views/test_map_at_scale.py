"""The allocation map and the topology at the size of a busy swarm: the same SQL queries for a team among 5
networks as among 600, and a map drawn from each overview cell's totals that reads exactly as one drawn
from every held block (networks.selectors.diagrams)."""

import ipaddress

import pytest

from networks import ipam
from networks.diagrams import allocation_map as diagram
from networks.models import Cluster, ReservedRange, SubnetAllocation
from networks.selectors.allocations import cluster_capacity, subnet_allocation_list
from networks.selectors.diagrams import cluster_allocation_map
from tests.factories import make_team
from tests.pages import populate
from tests.support import query_counts

pytestmark = pytest.mark.django_db


def busy_team(size: int):
    """A team on a swarm with `size` networks (populate's), the allocator's floor where creates leave it."""
    team = make_team()
    populate(team, size)
    last = SubnetAllocation.objects.filter(cluster=team.cluster).order_by("-first").values_list("last", flat=True)[0]
    Cluster.objects.filter(pk=team.cluster.pk).update(allocation_floor=last + 1)
    team.cluster.refresh_from_db()
    return team


def picture_counts(client, size: int) -> dict:
    team = busy_team(size)
    client.force_login(team.owner)
    cluster = team.cluster.pk
    pages = {
        "map": f"/map/?cluster={cluster}",
        "map, another cell": f"/map/?cluster={cluster}&block=10.0.0.0/16",
        "map, a block picked": f"/map/?cluster={cluster}&select=10.0.3.0/24",
        "topology": f"/topology/?cluster={cluster}",
        "network create form": "/networks/new/",
    }
    return query_counts({name: lambda path=path: client.get(path) for name, path in pages.items()})


def test_the_pictures_make_as_many_queries_for_600_networks_as_for_5(client):
    small = picture_counts(client, 5)
    assert all(status == 200 for status, _ in small.values()), small
    assert picture_counts(client, 600) == small


def every_block_map(team, **kwargs) -> diagram.AllocationMap:
    """The map as it was drawn before the overview's totals: from every held block of the swarm."""
    capacity = cluster_capacity(cluster=team.cluster)
    kinds = {SubnetAllocation.Kind.EXTERNAL: diagram.HolderKind.EXTERNAL, "other": diagram.HolderKind.OTHER_TEAM}
    holders = [
        diagram.Holder.of(
            ipaddress.IPv4Network(b.cidr), kinds.get(b.kind, diagram.HolderKind.NETWORK), b.owner, b.network_id
        )
        for b in subnet_allocation_list(tenant=team.tenant, cluster=team.cluster)
    ]
    for reserved in team.cluster.reserved_ranges.all():
        kind = diagram.HolderKind.SERVICENET if reserved.is_servicenet else diagram.HolderKind.RESERVED
        owner = "ServiceNet" if reserved.is_servicenet else f"reserved range ({reserved.description})"
        holders.append(diagram.Holder.of(reserved.network, kind, owner))
    return diagram.allocation_map(
        team.cluster.pool, capacity.prefixlen, holders, next_block=capacity.next_block, **kwargs
    )


def seen(cells) -> list:
    return [(c.block, c.state, c.held, c.level, c.title, c.kinds, c.is_next) for c in cells]


@pytest.mark.parametrize(
    "view", [{}, {"focus": "10.0.0.0/16"}, {"selected": "10.1.0.0/16"}, {"selected": "10.0.9.0/24"}]
)
def test_the_map_from_totals_reads_as_the_map_from_every_block(view):
    team = busy_team(300)  # 10.0.0.0/16 full and 10.1.0.0/16 to 10.1.74.0; 10.2 and 10.3 a few blocks each
    cluster = team.cluster
    for cidr, owner in [
        ("10.1.201.0/24", "in a reserved range"),
        ("10.2.0.0/24", "a"),
        ("10.2.7.0/24", "b"),
        ("10.3.0.0/28", "c"),
        ("10.3.0.64/26", "d"),
    ]:
        block = ipaddress.IPv4Network(cidr)
        SubnetAllocation.objects.create(
            cluster=cluster,
            cidr=cidr,
            first=int(block.network_address),
            last=int(block.broadcast_address),
            owner=f'external network "{owner}"',
            kind=SubnetAllocation.Kind.EXTERNAL,
        )
    for cidr in ["10.3.1.0/24", "10.3.2.0/24", "10.3.3.0/24", "10.3.4.0/24"]:
        block = ipaddress.IPv4Network(cidr)
        SubnetAllocation.objects.create(
            cluster=cluster, cidr=cidr, first=int(block.network_address), last=int(block.broadcast_address), owner="x"
        )
    ReservedRange.objects.create(cluster=cluster, cidr="10.1.200.0/22", description="hosts")
    big = ipaddress.IPv4Network("10.8.0.0/15")  # larger than an overview cell
    SubnetAllocation.objects.create(
        cluster=cluster, cidr=str(big), first=int(big.network_address), last=int(big.broadcast_address), owner="big"
    )
    drawn, _ = cluster_allocation_map(tenant=team.tenant, cluster=cluster, **view)
    expected = every_block_map(team, **view)
    assert seen(drawn.overview) == seen(expected.overview)
    assert seen(drawn.detail) == seen(expected.detail)
    assert (drawn.focus, drawn.selected) == (expected.focus, expected.selected)
    assert drawn.selected_holders == expected.selected_holders


def test_capacity_from_the_database_counts_as_ipam_does():
    team = busy_team(300)
    cluster = team.cluster
    for cidr in ["10.176.230.0/24", "10.2.0.0/26", "10.2.0.128/26", "10.4.0.0/14", "11.0.0.0/24"]:
        block = ipaddress.IPv4Network(cidr)
        SubnetAllocation.objects.create(
            cluster=cluster, cidr=cidr, first=int(block.network_address), last=int(block.broadcast_address), owner="x"
        )
    for prefixlen in (24, 26, 20):
        every = [ipaddress.IPv4Network(c) for c in SubnetAllocation.objects.values_list("cidr", flat=True)]
        reserved = [r.network for r in cluster.reserved_ranges.all()]
        from_rows = cluster_capacity(cluster=cluster, prefixlen=prefixlen)
        assert from_rows == ipam.capacity(cluster.pool, prefixlen, reserved=reserved, used=every), prefixlen
