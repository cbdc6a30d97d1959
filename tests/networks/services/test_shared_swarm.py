"""Two teams on the real local swarm: one address space, isolation Docker confirms, a shared network
with DNS across teams, a network the swarm could not build, and merging duplicate registrations."""

import io
import ipaddress
import time
from concurrent.futures import ThreadPoolExecutor

import docker
import pytest
from django.core.management import call_command
from django.db import connection

from networks.engine import docker as docker_engine
from networks.models import Cluster, ClusterGrant, Container, Network, Operation, SubnetAllocation
from networks.services.containers.run import container_run
from networks.services.diagnostics import container_diagnose
from networks.services.grants import cluster_grant
from networks.services.networks.create import network_create
from networks.services.reconcile import cluster_reconcile_now
from networks.services.shares import network_share
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.services import tenant_create
from tests.support import first_team, wait_for_operation

pytestmark = [pytest.mark.cluster, pytest.mark.worker]
TOOLS = "overlay-portal/tools:latest"
CREATES_PER_TEAM = 25


@pytest.fixture
def two_teams(tenant_cluster):
    """The cluster's first team and a second team granted the same swarm."""
    second = tenant_create(name=f"Second {tenant_cluster.pk}")
    cluster_grant(actor=Actor.system("tests"), cluster=tenant_cluster, tenant=second)
    return first_team(tenant_cluster), second


def succeed(operation):
    operation = wait_for_operation(operation)
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    return operation


def portal_networks_in_docker(cluster) -> list[dict]:
    return docker_engine.find_networks(cluster.docker, labels=[f"overlay-portal.cluster={cluster.uid}"])


def test_two_teams_creating_at_once_share_one_address_space(celery_worker_process, tenant_cluster, two_teams):
    cluster = tenant_cluster

    def create(job):
        team, index = job
        try:
            return network_create(
                actor=Actor.system("tests"), tenant=team, cluster=cluster, name=f"{team.slug}-{index}"
            ).pk
        finally:
            connection.close()

    jobs = [(team, i) for i in range(CREATES_PER_TEAM) for team in two_teams]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        operation_ids = list(pool.map(create, jobs))
    operations = [wait_for_operation(Operation(pk=pk), timeout=240) for pk in operation_ids]
    elapsed = time.monotonic() - started
    failed = [(o.target, o.error) for o in operations if o.status != Operation.Status.SUCCEEDED]
    assert not failed, failed

    # Docker's own view: 50 networks, each built, no two subnets overlapping.
    made = portal_networks_in_docker(cluster)
    assert len(made) == 2 * CREATES_PER_TEAM
    broken = [n["Name"] for n in made if docker_engine.network_is_broken(n)]
    assert broken == []
    subnets = sorted(ipaddress.IPv4Network(n["IPAM"]["Config"][0]["Subnet"]) for n in made)
    overlapping = [(a, b) for a, b in zip(subnets, subnets[1:], strict=False) if a.overlaps(b)]
    assert overlapping == []
    # One pool: both teams' blocks come from it in Carina's order, with no gaps between them.
    assert SubnetAllocation.objects.filter(cluster=cluster, kind="network").count() == 2 * CREATES_PER_TEAM
    print(f"\n2 teams x {CREATES_PER_TEAM} concurrent creates: all succeeded in {elapsed:.1f} s; 0 overlaps, 0 broken")


def test_another_teams_network_is_refused_and_docker_confirms_nothing_joined(
    celery_worker_process, tenant_cluster, two_teams
):
    owner, other = two_teams
    private = Network.objects.get(
        pk=succeed(
            network_create(actor=Actor.system("tests"), tenant=owner, cluster=tenant_cluster, name="private")
        ).network_id
    )
    with pytest.raises(ServiceError) as refused:
        container_run(
            actor=Actor.system("tests"),
            tenant=other,
            cluster=tenant_cluster,
            name="spy",
            image=TOOLS,
            networks=[{"network": private}],
        )
    assert refused.value.http_status == 404
    assert not Container.objects.filter(name="spy").exists()
    local = docker_engine.network_on_node(tenant_cluster.docker, private.docker_id) or {}
    assert not local.get("Containers")
    for node in tenant_cluster.nodes.all():
        names = [c["Name"].lstrip("/") for c in docker_engine.list_containers(node.docker)]
        assert "spy" not in names


def test_a_shared_network_carries_dns_between_the_two_teams(celery_worker_process, tenant_cluster, two_teams):
    owner, other = two_teams
    backend = Network.objects.get(
        pk=succeed(
            network_create(actor=Actor.system("tests"), tenant=owner, cluster=tenant_cluster, name="backend")
        ).network_id
    )
    network_share(actor=Actor.system("tests"), tenant=owner, network=backend, with_tenant=other.slug)
    db = succeed(
        container_run(
            actor=Actor.system("tests"),
            tenant=owner,
            cluster=tenant_cluster,
            name="db",
            image=TOOLS,
            command=["sh", "-c", "while true; do echo ok | nc -l -p 3306; done"],
            networks=[{"network": backend}],
            node=tenant_cluster.nodes.get(name="node1"),
        )
    )
    app = succeed(
        container_run(
            actor=Actor.system("tests"),
            tenant=other,
            cluster=tenant_cluster,
            name="app",
            image=TOOLS,
            command=["sleep", "3600"],
            networks=[{"network": backend}],
            node=tenant_cluster.nodes.get(name="node2"),
        )
    )
    assert db.container.tenant_id == owner.pk and app.container.tenant_id == other.pk
    result = container_diagnose(tenant=other, container=app.container, target="db", port=3306)
    assert result["ok"], result


def test_a_network_the_swarm_could_not_build_fails_and_frees_its_subnet(celery_worker_process, tenant_cluster):
    team = first_team(tenant_cluster)
    client = docker_engine.client(tenant_cluster.docker)
    ipam_config = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.0.77.0/24")])
    outside = client.networks.create("made-on-the-cli", driver="overlay", ipam=ipam_config)
    try:
        # The portal has not heard of it yet (no reconcile, no follower): it hands out the same block.
        operation = wait_for_operation(
            network_create(
                actor=Actor.system("tests"), tenant=team, cluster=tenant_cluster, name="clashing", subnet="10.0.77.0/24"
            )
        )
        assert operation.status == Operation.Status.FAILED and operation.error_code == "network_broken"
        assert operation.error == (
            "The swarm could not build network clashing on 10.0.77.0/24: it clashes with a network the swarm "
            "already has on 10.0.77.0/24, which the portal did not know of. Pick another subnet, or leave it "
            "empty to get the next free one (an admin can reconcile the cluster to see what holds it)."
        )
        network = Network.objects.get(pk=operation.network_id)
        assert network.status == Network.Status.FAILED
        assert not SubnetAllocation.objects.filter(
            cluster=tenant_cluster, cidr="10.0.77.0/24", network=network
        ).exists()
        names = [n["Name"] for n in docker_engine.find_networks(tenant_cluster.docker)]
        assert "clashing" not in names and "made-on-the-cli" in names

        # A broken network made outside the portal is reported by reconcile.
        broken = client.networks.create("broken-on-the-cli", driver="overlay", ipam=ipam_config)
        changes = cluster_reconcile_now(cluster=tenant_cluster)
        assert any('"broken-on-the-cli"' in change and "broken in the swarm" in change for change in changes), changes
        broken.remove()
    finally:
        outside.remove()


def test_duplicate_registrations_of_one_swarm_are_merged(tenant_cluster, cluster_description):
    team = first_team(tenant_cluster)
    other = tenant_create(name=f"Old {tenant_cluster.pk}")
    # As they were before the swarm ID was recorded: a second registration of the same swarm.
    Cluster.objects.filter(pk=tenant_cluster.pk).update(swarm_id="")
    duplicate = Cluster.objects.create(
        name="local-old",
        docker_endpoint=tenant_cluster.docker_endpoint,
        consul_address=tenant_cluster.consul_address,
        tls_ca=tenant_cluster.tls_ca,
        tls_cert=tenant_cluster.tls_cert,
        tls_key_sealed=tenant_cluster.tls_key_sealed,
    )
    ClusterGrant.objects.create(cluster=duplicate, tenant=other)
    out = io.StringIO()
    call_command("cluster_merge", stdout=out)
    said = out.getvalue()
    assert 'Cluster "local-old" is the same swarm as' in said and f"{other.name} now uses" in said
    assert not Cluster.objects.filter(pk=duplicate.pk).exists()
    kept = Cluster.objects.get(pk=tenant_cluster.pk)
    assert kept.swarm_id == docker_engine.client(kept.docker).info()["Swarm"]["Cluster"]["ID"]
    assert set(kept.grants.values_list("tenant_id", flat=True)) == {team.pk, other.pk}
    call_command("cluster_merge", stdout=io.StringIO())  # a second run changes nothing
    assert Cluster.objects.count() == 1
