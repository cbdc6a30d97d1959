"""How a cluster is: its nodes' state and listening ports, Consul's leader and agents, and the
connection test that reconnects with the stored credentials before looking."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from networks import labels as docker_labels
from networks.engine import EngineError
from networks.engine import consul as consul_engine
from networks.engine import nodes as nodes_engine
from networks.models import Cluster, Node
from networks.services import queue
from networks.services.containers.system import system_containers_sync
from plumbing.errors import ServiceError

from .connect import cluster_connect
from .credentials import cluster_bundle

TEST_WAIT_SECONDS = 110  # connecting, then the health refresh: the test task's own hard limit (tasks.py)


def cluster_refresh_health(*, cluster: Cluster) -> dict:
    """Ask the swarm manager and Consul how the nodes are; record each node's state.

    Returns a summary: nodes ready out of total, and whether Consul has a leader and all agents alive.
    """
    now = timezone.now()
    nodes = {node.name: node for node in cluster.nodes.all()}
    try:
        swarm = {item.hostname: item for item in nodes_engine.swarm_nodes(cluster.docker)}
    except EngineError:
        swarm = {}
    # A node's hostname inside its namespace is the machine's, so match by address as well.
    by_address = {item.address: item for item in swarm.values()}
    for node in nodes.values():
        item = swarm.get(node.name) or by_address.get(node.address)
        node.state = Node.State.READY if item and item.state == "ready" else Node.State.DOWN
        if node.state == Node.State.READY:
            node.last_seen = now
            _probe(node)
        node.save(update_fields=["state", "last_seen", "listening_ports", "underlay_mtu"])
    # The dashboard tells whether Consul is up from its agents' system containers: refresh them too.
    try:
        system_containers_sync(cluster=cluster)
    except EngineError:
        pass  # a node that cannot be reached is already recorded as down
    try:
        alive = {m["Name"] for m in consul_engine.members(cluster.consul) if m.get("Status") == 1}
        consul_up = bool(consul_engine.leader(cluster.consul))
    except EngineError:
        alive, consul_up = set(), False
    return {
        "nodes_total": len(nodes),
        "nodes_ready": sum(1 for node in nodes.values() if node.state == Node.State.READY),
        "consul_leader": consul_up,
        "consul_alive": sorted(alive),
    }


def _probe(node: Node) -> None:
    """What the node's own programs listen on now and its underlay's MTU, or what was known when they
    cannot be read."""
    try:
        found = nodes_engine.node_probe(
            node.docker, image=settings.NODE_PROBE_IMAGE, labels={docker_labels.PROBE: "true"}, address=node.address
        )
    except EngineError:
        return  # no probe image on the node, or the node does not answer
    node.listening_ports = [list(pair) for pair in found.listening]
    node.underlay_mtu = found.underlay_mtu or node.underlay_mtu


def cluster_test_run(*, cluster: Cluster) -> dict:
    """Connect with the stored credentials, check it is still the same swarm, refresh the nodes' health.

    The answer is a sentence either way: {"ok", "code", "message"} (a worker's answer, no key in it).
    """
    try:
        found = cluster_connect(cluster_bundle(cluster))
    except ServiceError as error:
        return {"ok": False, "code": error.code, "message": error.message}
    if cluster.swarm_id and found.swarm_id != cluster.swarm_id:
        return {
            "ok": False,
            "code": "other_swarm",
            "message": f'{cluster.docker_endpoint} now answers as swarm {found.swarm_id}, not "{cluster.name}" '
            f"({cluster.swarm_id}): the swarm was rebuilt, or the address now belongs to another one. Register "
            "it as a new cluster, or rotate this cluster's credentials to reach its own swarm.",
        }
    health = cluster_refresh_health(cluster=cluster)
    consul = "Consul has a leader" if health["consul_leader"] else "Consul has NO leader"
    return {
        "ok": True,
        "code": "connected",
        "message": f'Connected to "{cluster.name}" {"over TLS " if cluster.tls else ""}at {cluster.docker_endpoint}: '
        f"swarm {found.swarm_id}, Docker API {found.api_version}, {health['nodes_ready']}/{health['nodes_total']} "
        f"nodes ready, {consul}.",
    }


def cluster_test_ask(*, cluster: Cluster, timeout: float = TEST_WAIT_SECONDS) -> dict:
    """Have a worker test the cluster's connection (see cluster_test_run) and wait for its sentence."""
    return queue.ask(queue.CLUSTER_TEST, cluster.pk, timeout=timeout)


def cluster_refresh_health_request(*, cluster: Cluster) -> None:
    """Ask a worker to look at the cluster's nodes and Consul (web requests never call the cluster)."""
    # robust: with the task queue down, the page still answers (beat refreshes health every minute anyway).
    queue.send_on_commit(queue.CLUSTER_REFRESH_HEALTH, cluster.pk, robust=True)


def cluster_refresh_health_ask(*, cluster: Cluster, timeout: float) -> dict:
    """Have a worker look at the cluster now and wait for what it found."""
    return queue.ask(queue.CLUSTER_REFRESH_HEALTH, cluster.pk, timeout=timeout)
