"""The allocation services against the real database (PostgreSQL in CI)."""

import ipaddress

import pytest

from networks import ipam
from networks.models import Cluster, ClusterGrant, Network, ReservedRange, SubnetAllocation
from networks.selectors.allocations import cluster_capacity
from networks.services.addresses import address_allocate
from networks.services.allocations import (
    subnet_allocate,
    subnet_import_external,
    subnet_release,
)
from portal.actors import Actor
from portal.services import tenant_create
from tests.support import first_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster():
    tenant = tenant_create(name="Alloc")
    cluster = Cluster.objects.create(
        name="c1", docker_endpoint="tcp://192.0.2.1:2375", consul_address="http://192.0.2.1:8500"
    )
    ClusterGrant.objects.create(cluster=cluster, tenant=tenant)
    ReservedRange.objects.create(
        cluster=cluster, cidr=str(ipam.SERVICENET), description="ServiceNet", is_servicenet=True
    )
    return cluster


def make_network(cluster, name, cidr):
    net = ipaddress.IPv4Network(cidr)
    return Network.objects.create(
        tenant=first_team(cluster), cluster=cluster, name=name, subnet=cidr, gateway=str(net.network_address + 1)
    )


def allocate(cluster, **kwargs):
    return subnet_allocate(cluster=cluster, owner="test", **kwargs).cidr


def test_carina_order_after_the_swarm_ingress(cluster):
    subnet_import_external(cluster=cluster, cidr="10.0.0.0/24", owner='external network "ingress"')
    assert [allocate(cluster) for _ in range(3)] == ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]


def test_third_octet_rolls_over_into_the_second(cluster):
    subnet_import_external(cluster=cluster, cidr="10.0.0.0/16", owner="cli")
    assert allocate(cluster) == "10.1.0.0/24"


def test_requested_size_is_aligned_and_first_fit(cluster):
    assert allocate(cluster) == "10.0.0.0/24"
    assert allocate(cluster, prefixlen=22) == "10.0.4.0/22"
    assert allocate(cluster) == "10.0.1.0/24"


def test_freed_block_comes_back_first(cluster):
    first = [subnet_allocate(cluster=cluster, owner="t") for _ in range(4)]
    subnet_release(allocation=first[1])
    assert allocate(cluster) == "10.0.1.0/24"
    assert allocate(cluster) == "10.0.4.0/24"


def test_servicenet_is_skipped(cluster):
    # Fill everything below ServiceNet with a few large external blocks.
    for cidr in ["10.0.0.0/9", "10.128.0.0/11", "10.160.0.0/12", "10.176.0.0/17", "10.176.128.0/18", "10.176.192.0/19"]:
        subnet_import_external(cluster=cluster, cidr=cidr, owner="filler")
    assert allocate(cluster) == "10.177.0.0/24"


def test_floor_is_forgotten_when_a_reserved_range_goes(cluster):
    ReservedRange.objects.create(cluster=cluster, cidr="10.0.0.0/23", description="VPN")
    assert allocate(cluster) == "10.0.2.0/24"
    ReservedRange.objects.get(description="VPN").delete()
    assert allocate(cluster) == "10.0.0.0/24"


def test_full_pool_is_a_sentence(cluster):
    cluster.address_pool = "10.9.0.0/23"
    cluster.save()
    allocate(cluster)
    allocate(cluster)
    with pytest.raises(ipam.PoolExhausted) as excinfo:
        allocate(cluster)
    assert str(excinfo.value.message).startswith("No free /24 left in 10.9.0.0/23.")


@pytest.mark.parametrize(
    ("subnet", "code", "fragment"),
    [
        ("banana", "not_cidr", "not a subnet in CIDR notation"),
        ("10.0.1.5/24", "host_bits_set", "did you mean 10.0.1.0/24?"),
        ("192.168.0.0/24", "outside_pool", "outside the cluster's address pool 10.0.0.0/8"),
        ("10.5.0.0/30", "bad_prefix", "/16"),
        ("10.176.230.0/24", "overlaps_servicenet", "would lose connectivity to ServiceNet"),
        ("10.7.0.0/16", "overlaps_network", 'network "web" (10.7.3.0/24)'),
    ],
)
def test_explicit_subnet_refusals(cluster, subnet, code, fragment):
    web = make_network(cluster, "web", "10.7.3.0/24")
    subnet_allocate(cluster=cluster, network=web, subnet="10.7.3.0/24")
    with pytest.raises(ipam.IpamError) as excinfo:
        subnet_allocate(cluster=cluster, subnet=subnet, owner="t")
    assert excinfo.value.code == code
    assert fragment in excinfo.value.message


def test_explicit_subnet_overlapping_a_reserved_range_names_it(cluster):
    ReservedRange.objects.create(cluster=cluster, cidr="10.50.0.0/16", description="office VPN")
    with pytest.raises(ipam.IpamError) as excinfo:
        subnet_allocate(cluster=cluster, subnet="10.50.1.0/24", owner="t")
    assert excinfo.value.code == "overlaps_reserved"
    assert "office VPN" in excinfo.value.message


def test_explicit_subnet_is_held_and_skipped_by_automatic_ones(cluster):
    subnet_allocate(cluster=cluster, subnet="10.0.1.0/24", owner="t")
    assert [allocate(cluster) for _ in range(2)] == ["10.0.0.0/24", "10.0.2.0/24"]


def test_addresses_are_unique_per_network_and_validated(cluster):
    net = make_network(cluster, "db", "10.0.9.0/24")
    assert address_allocate(network=net, owner="a").address == "10.0.9.2"
    assert address_allocate(network=net, owner="b", requested="10.0.9.50").address == "10.0.9.50"
    for requested, code in [
        ("10.0.9.50", "address_in_use"),
        ("10.0.9.1", "address_is_gateway"),
        ("10.0.8.5", "address_outside"),
        ("10.0.9.255", "address_broadcast"),
        ("x", "bad_address"),
    ]:
        with pytest.raises(ipam.IpamError) as excinfo:
            address_allocate(network=net, owner="c", requested=requested)
        assert excinfo.value.code == code
    assert address_allocate(network=net, owner="d").address == "10.0.9.3"


def test_capacity_counts_and_next_block(cluster):
    subnet_import_external(cluster=cluster, cidr="10.0.0.0/24", owner="ingress")
    allocate(cluster)
    capacity = cluster_capacity(cluster=cluster)
    assert capacity.total_blocks == 65536
    assert capacity.used_blocks == 2
    assert capacity.reserved_blocks == 32
    assert capacity.free_blocks == 65536 - 34
    assert str(capacity.next_block) == "10.0.2.0/24"


def test_database_refuses_a_second_holder_of_the_same_block(cluster):
    from django.db import IntegrityError, transaction

    subnet_allocate(cluster=cluster, subnet="10.0.5.0/24", owner="t")
    with pytest.raises(IntegrityError), transaction.atomic():
        SubnetAllocation.objects.create(cluster=cluster, cidr="10.0.5.0/24", first=167773440, last=167773695, owner="x")


@pytest.mark.parametrize(
    ("gateway", "code"),
    [
        ("10.0.7.300", "bad_gateway"),
        ("10.0.8.1", "gateway_outside"),
        ("10.0.7.0", "gateway_network_address"),
        ("10.0.7.255", "gateway_broadcast"),
    ],
)
def test_network_create_refuses_a_bad_gateway_and_holds_nothing(cluster, gateway, code):
    from networks.services.networks.create import network_create

    with pytest.raises(ipam.IpamError) as excinfo:
        network_create(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            cluster=cluster,
            name="gw",
            subnet="10.0.7.0/24",
            gateway=gateway,
        )
    assert excinfo.value.code == code and excinfo.value.field == "gateway"
    assert not SubnetAllocation.objects.filter(cluster=cluster).exists()
    assert not Network.objects.filter(cluster=cluster).exists()


def test_network_create_records_the_held_block_and_a_queued_operation(cluster):
    from networks.services.networks.create import network_create

    operation = network_create(
        actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="mynetwork", gateway="10.0.0.254"
    )
    network = operation.network
    assert (network.subnet, network.gateway, network.status) == ("10.0.0.0/24", "10.0.0.254", "creating")
    assert network.allocation.cidr == "10.0.0.0/24" and network.allocation.owner == 'network "mynetwork"'
    assert operation.status == "queued" and operation.celery_task_id
