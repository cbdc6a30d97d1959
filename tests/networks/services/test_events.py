"""Changes made outside the portal (the docker CLI on a node) show in the portal within seconds.

The real events follower (`manage.py follow_events`) listens to the real engines and hands the
events to the real worker; the five-minute reconcile never runs here, so what the test sees is
the follower's doing.
"""

import os
import time
import urllib.request

import pytest

from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Container, Network, Operation, SubnetAllocation
from networks.services.containers.run import container_run
from networks.services.networks.create import network_create
from portal.actors import Actor
from tests.support import first_team, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]

PORT = 20000 + (os.getpid() + 7) % 20000


def status_of(container: Container) -> str:
    container.refresh_from_db()
    return container.status


def test_stop_start_and_rm_on_the_cli_are_followed(events_follower, tenant_cluster):
    cluster = tenant_cluster
    network = Network.objects.get(
        pk=wait_for_operation(
            network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="front")
        ).network_id
    )
    operation = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            cluster=cluster,
            name="web",
            image="overlay-portal/tools:latest",
            command=["sh", "-c", "echo hi > /tmp/index.html && exec httpd -f -p 80 -h /tmp"],
            networks=[{"network": network}],
            ports=[f"{PORT}:80"],
            node=cluster.nodes.get(name="node2"),
        )
    )
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    web = operation.container
    node = web.node.docker
    agent = f"http://{web.node.address}:8500"
    service_id = f"overlay-portal-{cluster.uid}-{web.pk}"
    assert service_id in consul_engine.services(agent)

    # $ docker stop web   (on the node, not through the portal)
    docker_engine.container_action(node, web.docker_id, "stop", timeout=1)
    wait_until(lambda: status_of(web) == Container.Status.EXITED, timeout=30)
    wait_until(lambda: service_id not in consul_engine.services(agent), timeout=10)

    # $ docker start web
    docker_engine.container_action(node, web.docker_id, "start")
    wait_until(lambda: status_of(web) == Container.Status.RUNNING, timeout=30)
    wait_until(lambda: service_id in consul_engine.services(agent), timeout=10)
    assert urllib.request.urlopen(f"http://{web.node.address}:{PORT}/", timeout=10).read() == b"hi\n"

    # $ docker network disconnect front web
    address = web.endpoints.get().ipv4_address
    docker_engine.disconnect_container(node, network.docker_id, web.docker_id)
    wait_until(lambda: not web.endpoints.exists(), timeout=30)
    assert not network.address_allocations.filter(address=address).exists(), "its address is free again"

    # $ docker rm -f web
    docker_engine.remove_container(node, web.docker_id)
    wait_until(lambda: status_of(web) == Container.Status.REMOVED, timeout=30)
    assert service_id not in consul_engine.services(agent)
    # Nothing the follower did was mistaken for work of the portal's own: no extra operations.
    assert set(Operation.objects.filter(cluster=cluster).values_list("kind", flat=True)) == {
        Operation.Kind.NETWORK_CREATE,
        Operation.Kind.CONTAINER_RUN,
    }


def test_a_network_made_and_removed_on_the_cli_is_imported_then_freed(events_follower, tenant_cluster):
    cluster = tenant_cluster
    # The portal's own create is not followed up by a reconcile.
    wait_for_operation(
        network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="ours")
    )
    subnet = str(cluster_next_block(cluster))
    name = f"cli-{cluster.uid.hex[:8]}"

    # $ docker network create --driver overlay --subnet SUBNET cli-...
    made = docker_engine.create_overlay_network(
        cluster.docker, name, subnet=subnet, gateway=subnet.replace(".0/24", ".1"), labels={}
    )
    try:
        network = wait_until(
            lambda: Network.objects.filter(cluster=cluster, name=name, is_external=True).first(), timeout=30
        )
        assert network.subnet == subnet and network.docker_id == made["Id"]
        assert SubnetAllocation.objects.filter(cluster=cluster, cidr=subnet, kind="external").exists()
    finally:
        # $ docker network rm cli-...
        docker_engine.remove_network(cluster.docker, made["Id"])
    wait_until(lambda: Network.objects.get(pk=network.pk).status == Network.Status.REMOVED, timeout=30)
    assert not SubnetAllocation.objects.filter(cluster=cluster, cidr=subnet).exists(), "the block is free again"
    reconciles = Operation.objects.filter(cluster=cluster, kind=Operation.Kind.CLUSTER_RECONCILE)
    # The reconcile writes the network's end before its own: wait for the operation to finish too.
    wait_until(lambda: not reconciles.unfinished().exists(), timeout=30)
    assert 1 <= reconciles.count() <= 2 and all(op.status == Operation.Status.SUCCEEDED for op in reconciles)


def cluster_next_block(cluster):
    from networks.selectors.allocations import cluster_capacity

    return cluster_capacity(cluster=cluster).next_block


def test_a_consul_agent_that_stops_shows_on_the_dashboard_at_once(events_follower, tenant_cluster):
    """The agents are system containers: their events keep the dashboard's "Consul up" current."""
    from networks.selectors.health import cluster_health_get

    cluster = tenant_cluster
    node = cluster.nodes.get(name="node2")
    agent = Container.objects.get(cluster=cluster, is_system=True, node=node)
    assert cluster_health_get(tenant=first_team(cluster), pk=cluster.pk).consul_up is True

    docker_engine.container_action(node.docker, agent.docker_id, "stop", timeout=1)
    try:
        wait_until(lambda: status_of(agent) == Container.Status.EXITED, timeout=30)
        health = cluster_health_get(tenant=first_team(cluster), pk=cluster.pk)
        assert (health.consul_up, health.consul_running, health.consul_total) == (False, 1, 2)
        assert not health.healthy
    finally:
        docker_engine.container_action(node.docker, agent.docker_id, "start")
    wait_until(lambda: status_of(agent) == Container.Status.RUNNING, timeout=30)
    assert cluster_health_get(tenant=first_team(cluster), pk=cluster.pk).consul_up is True
    # Back in the cluster before the next test uses it: the agent rejoined and is alive.
    wait_until(
        lambda: any(m["Addr"] == node.address and m.get("Status") == 1 for m in consul_engine.members(cluster.consul)),
        timeout=60,
    )


def dockerd_pid(address: str) -> int:
    """The pid of the node's dockerd, found by the TCP address it listens on."""
    from pathlib import Path

    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"dockerd") and f"tcp://{address}:2376".encode() in argv:
            return int(cmdline.parent.name)
    raise AssertionError(f"no dockerd listens on {address}")


def test_a_node_that_stops_answering_shows_as_down_as_soon_as_the_swarm_knows(events_follower, tenant_cluster):
    """node2's dockerd frozen (SIGSTOP) until the swarm marks it down, then thawed."""
    import signal

    from networks.models import Node
    from networks.selectors.health import cluster_health_get
    from networks.services.clusters.health import cluster_refresh_health

    cluster = tenant_cluster
    node = cluster.nodes.get(name="node2")
    cluster_refresh_health(cluster=cluster)
    assert cluster.nodes.filter(state=Node.State.READY).count() == 2
    pid = dockerd_pid(node.address)
    os.kill(pid, signal.SIGSTOP)
    try:
        # The manager notices after its heartbeat timeout (about 13 s here); the follower hears it.
        wait_until(lambda: Node.objects.get(pk=node.pk).state == Node.State.DOWN, timeout=60)
        health = cluster_health_get(tenant=first_team(cluster), pk=cluster.pk)
        assert health.nodes_ready == 1 and not health.healthy
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: Node.objects.get(pk=node.pk).state == Node.State.READY, timeout=60)
    assert cluster_health_get(tenant=first_team(cluster), pk=cluster.pk).nodes_ready == 2


def test_a_change_made_while_the_follower_was_down_shows_soon_after_it_is_back(events_follower, tenant_cluster):
    """The follower resumes each node's events where it stopped, not from the moment it starts again."""
    cluster = tenant_cluster
    operation = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            cluster=cluster,
            name="web",
            image="overlay-portal/tools:latest",
            command=["sleep", "3600"],
            node=cluster.nodes.get(name="node2"),
        )
    )
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    web = operation.container
    events_follower.stop()

    # $ docker rm -f web   (on the node, while no follower listens)
    docker_engine.remove_container(web.node.docker, web.docker_id)
    assert status_of(web) == Container.Status.RUNNING, "nothing else follows the cluster in this test"

    started = time.monotonic()
    events_follower.start()
    wait_until(lambda: status_of(web) == Container.Status.REMOVED, timeout=30)
    print(f"\nremoved while the follower was down: shown {time.monotonic() - started:.1f} s after its restart began")
    # The restarted follower heard it (a reconcile, which another team's network on the same swarm may
    # start, could also have marked it removed; this says who did).
    assert f"node2: container destroy {web.docker_id[:12]}" in events_follower.log_path.read_text()
