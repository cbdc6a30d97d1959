"""`GET /api/v1/clusters/{id}/available-prefixes/`: the next free blocks of a size in the order creates hand
them out, another team's block skipped and never named, in as many queries at 10,000 networks as at none."""

import ipaddress

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from networks import ipam
from networks.models import ClusterGrant, SubnetAllocation
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db


def path(team, query: str = "") -> str:
    return f"clusters/{team.cluster.pk}/available-prefixes/{query}"


def test_the_next_free_blocks_are_the_ones_creates_get_in_turn(team, other_team):
    team.network("mine")  # 10.0.0.0/24
    ClusterGrant.objects.create(cluster=team.cluster, tenant=other_team.tenant)  # the swarm is shared
    other_team.cluster = team.cluster
    other = other_team.network("theirs", subnet="10.0.1.0/26")
    answer = team.api().get(path(team, "?prefixlen=26&limit=3"))
    assert answer.status_code == 200, answer.content
    assert answer.json() == [
        {"prefix": "10.0.1.64/26", "gateway": "10.0.1.65", "addresses": 62},
        {"prefix": "10.0.1.128/26", "gateway": "10.0.1.129", "addresses": 62},
        {"prefix": "10.0.1.192/26", "gateway": "10.0.1.193", "addresses": 62},
    ]
    assert other.name not in answer.content.decode()
    for number, listed in enumerate(answer.json()):  # each is what a create of that size gets next
        operation = team.api().post("networks/", {"name": f"n{number}", "prefixlen": 26}).json()
        assert operation["params"]["subnet"] == listed["prefix"]


def test_the_defaults_are_the_clusters_size_and_ten(team):
    blocks = team.api().get(path(team)).json()
    assert len(blocks) == 10 and {ipaddress.IPv4Network(b["prefix"]).prefixlen for b in blocks} == {
        team.cluster.default_prefixlen
    }


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("?prefixlen=abc", "bad_prefixlen", "prefixlen"),
        ("?prefixlen=-1", "bad_prefixlen", "prefixlen"),
        ("?prefixlen=31", "bad_prefix", "prefixlen"),
        ("?limit=0", "bad_limit", "limit"),
        ("?limit=101", "bad_limit", "limit"),
        ("?limit=１０", "bad_limit", "limit"),
        ("?limit=99999999999999999999", "bad_limit", "limit"),
    ],
)
def test_bad_queries_are_a_400_on_their_parameter(team, query, code, field):
    assert_error(team.api().get(path(team, query)), 400, code, field=field)


def test_another_teams_cluster_is_a_404(team, other_team):
    assert_error(team.api().get(f"clusters/{other_team.cluster.pk}/available-prefixes/"), 404)


def fill(cluster, count: int) -> None:
    rows = []
    for number, block in enumerate(ipaddress.IPv4Network("10.0.0.0/8").subnets(new_prefix=24)):
        if number >= count:
            break
        first, last = ipam.to_range(block)
        rows.append(SubnetAllocation(cluster=cluster, cidr=str(block), first=first, last=last, owner="filled"))
    SubnetAllocation.objects.bulk_create(rows, batch_size=5000)


def counted(team) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as queries:
        answer = team.api().get(path(team, "?prefixlen=26&limit=10"))
    assert answer.status_code == 200
    return len(queries), answer.json()


def test_as_many_queries_at_10000_networks_as_at_none(team):
    team.cluster.address_pool = "10.0.0.0/8"
    team.cluster.save()
    counted(team)  # the first request of a token reads more (its user, the throttle)
    empty, _ = counted(team)
    fill(team.cluster, 10_000)
    team.cluster.allocation_floor = None  # as after a release below everything: the floor is found again
    team.cluster.save()
    team.network("moves-the-floor")
    full, blocks = counted(team)
    assert full == empty
    assert blocks[0]["prefix"] == "10.39.17.0/26", "the first /26 after 10,000 /24s and the one just made"
