"""No orphan can block the pool: a Docker network a failed create left behind neither stops the next
default create (the allocator steps past the block) nor stays (reconcile removes it), and a create that
fails after Docker made its network removes it itself."""

import ipaddress

import pytest
from django.db import connection, transaction

from networks.engine import docker as docker_engine
from networks.models import Network, Operation, SubnetAllocation
from networks.services.allocations import cluster_lock, subnet_choose
from networks.services.builds import network_labels
from networks.services.networks.create import network_create
from networks.services.reconcile import cluster_reconcile_now
from portal.actors import Actor
from tests.support import first_team, wait_for_operation

pytestmark = [pytest.mark.cluster, pytest.mark.worker]


def next_default_block(cluster) -> str:
    """The block the next default create would be given (chosen, then rolled back)."""
    with transaction.atomic():
        block = subnet_choose(cluster=cluster_lock(cluster.pk))
        transaction.set_rollback(True)
    return str(block)


def ours(cluster, network=None) -> list[str]:
    labels = [f"overlay-portal.cluster={cluster.uid}"]
    if network is not None:
        labels.append(f"overlay-portal.network-id={network.pk}")
    return labels


def test_an_orphan_neither_blocks_default_creates_nor_survives_reconcile(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    team = first_team(cluster)
    block = next_default_block(cluster)
    # What a create that failed after Docker made its network left, before creates removed their own:
    # a failed record without a block, and its Docker network with the portal's labels on that block.
    lost = Network.objects.create(
        tenant=team,
        cluster=cluster,
        name="lost",
        subnet=block,
        gateway=str(ipaddress.IPv4Network(block).network_address + 1),
        status=Network.Status.FAILED,
    )
    orphan = docker_engine.create_overlay_network(
        cluster.docker, "lost", subnet=lost.subnet, gateway=lost.gateway, labels=network_labels(lost)
    )
    assert not any('"lost"' in change for change in cluster_reconcile_now(cluster=cluster)), (
        "a network Docker made a moment ago is left to a run that may still be finishing"
    )

    operation = wait_for_operation(
        network_create(actor=Actor.system("tests"), tenant=team, cluster=cluster, name="next")
    )

    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    made = Network.objects.get(pk=operation.network_id)
    assert made.subnet != block and made.status == Network.Status.ACTIVE
    assert any(
        p["message"]
        == f"The swarm already has a network on {block} that the portal did not know of; recorded it as held, "
        f"trying {made.subnet} instead of {block}."
        for p in operation.progress
    ), operation.progress
    held = SubnetAllocation.objects.get(cluster=cluster, cidr=block)
    assert held.kind == SubnetAllocation.Kind.EXTERNAL and held.network is None
    attrs = docker_engine.inspect_network(cluster.docker, made.docker_id)
    assert not docker_engine.network_is_broken(attrs) and attrs["IPAM"]["Config"][0]["Subnet"] == made.subnet

    changes = cluster_reconcile_now(cluster=cluster, orphan_grace=0)

    assert (
        f'Network "lost" ({orphan["Id"][:12]}) carried the portal\'s labels but its record is failed (a create '
        f"that failed after Docker made it): removed from the swarm, {block} freed."
    ) in changes, changes
    assert docker_engine.find_networks(cluster.docker, labels=ours(cluster, lost)) == []
    assert not SubnetAllocation.objects.filter(cluster=cluster, cidr=block).exists()
    assert next_default_block(cluster) == block, "the block is handed out again"
    assert not any('"lost"' in change for change in cluster_reconcile_now(cluster=cluster, orphan_grace=0))


def test_an_orphan_whose_record_is_missing_is_removed_and_one_being_created_is_left(
    celery_worker_process, tenant_cluster
):
    cluster = tenant_cluster
    creating = Network.objects.create(
        tenant=first_team(cluster), cluster=cluster, name="in-flight", subnet="10.0.251.0/24", gateway="10.0.251.1"
    )
    in_flight = docker_engine.create_overlay_network(
        cluster.docker, "in-flight", subnet="10.0.251.0/24", gateway="10.0.251.1", labels=network_labels(creating)
    )
    nameless = {**network_labels(creating), "overlay-portal.network-id": "999999999"}
    missing = docker_engine.create_overlay_network(
        cluster.docker, "no-record", subnet="10.0.252.0/24", gateway="10.0.252.1", labels=nameless
    )

    changes = cluster_reconcile_now(cluster=cluster, orphan_grace=0)

    assert (
        f'Network "no-record" ({missing["Id"][:12]}) carried the portal\'s labels but its record is missing (a '
        "create that failed after Docker made it): removed from the swarm."
    ) in changes, changes
    assert not any('"in-flight"' in change for change in changes), "a create in flight records it itself"
    assert docker_engine.find_networks(cluster.docker, id=missing["Id"]) == []
    assert docker_engine.find_networks(cluster.docker, id=in_flight["Id"]) != []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fault is a PostgreSQL check constraint")
def test_a_create_that_fails_after_docker_made_its_network_leaves_none_behind(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    # A real fault after Docker made the network: the database refuses to record it active.
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE networks_network ADD CONSTRAINT test_refuse_active "
            "CHECK (name <> 'refused' OR status <> 'active')"
        )
    try:
        operation = wait_for_operation(
            network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="refused")
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE networks_network DROP CONSTRAINT test_refuse_active")

    assert operation.status == Operation.Status.FAILED
    assert any(p["message"].startswith("Creating overlay network refused on ") for p in operation.progress)
    network = Network.objects.get(pk=operation.network_id)
    # Seen as soon as the operation is failed: the clean-up ran before it was marked so.
    assert docker_engine.find_networks(cluster.docker, labels=ours(cluster, network)) == []
    assert network.status == Network.Status.FAILED
    assert not SubnetAllocation.objects.filter(network=network).exists()
