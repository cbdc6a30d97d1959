from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from networks.engine import EngineError
from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Cluster, Node, ReservedRange
from networks.models.cluster import SERVICENET_CIDR
from portal.models import Tenant

from .containers import system_containers_sync


class ClusterDescriptionError(ValueError):
    """The cluster description file is missing or malformed; the message says how to fix it."""


def cluster_description_load(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ClusterDescriptionError(
            f"No cluster description at {path}. Bring the local cluster up with `cluster/cluster up`, "
            "or pass the description file of a real cluster with --file."
        )
    try:
        description = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ClusterDescriptionError(f"{path} is not valid JSON ({exc}).") from exc
    missing = [key for key in ("name", "manager", "consul_http_address", "nodes") if key not in description]
    if missing:
        raise ClusterDescriptionError(f"{path} lacks {', '.join(missing)}; see cluster/README.md for the format.")
    return description


@transaction.atomic
def cluster_register(*, tenant: Tenant, description: dict, name: str | None = None) -> Cluster:
    """Create or update a cluster and its nodes from a description; idempotent.

    A new cluster gets ServiceNet as a reserved range, so no network is ever placed on it.
    """
    nodes = description["nodes"]
    manager = next((node for node in nodes if node["name"] == description["manager"]), None)
    if manager is None:
        raise ClusterDescriptionError(f'The manager "{description["manager"]}" is not among the nodes.')
    cluster, created = Cluster.objects.update_or_create(
        tenant=tenant,
        name=name or description["name"],
        defaults={
            "docker_endpoint": manager["docker_endpoint"],
            "consul_address": description["consul_http_address"],
        },
    )
    if created:
        ReservedRange.objects.create(
            cluster=cluster, cidr=SERVICENET_CIDR, description="ServiceNet", is_servicenet=True
        )
    seen = []
    for node in nodes:
        Node.objects.update_or_create(
            cluster=cluster,
            name=node["name"],
            defaults={
                "docker_endpoint": node["docker_endpoint"],
                "address": node["address"],
                "role": Node.Role.MANAGER if node["name"] == description["manager"] else Node.Role.WORKER,
                "consul_container": node.get("consul_container", ""),
            },
        )
        seen.append(node["name"])
    cluster.nodes.exclude(name__in=seen).delete()
    return cluster


def cluster_refresh_health(*, cluster: Cluster) -> dict:
    """Ask the swarm manager and Consul how the nodes are; record each node's state.

    Returns a summary: nodes ready out of total, and whether Consul has a leader and all agents alive.
    """
    now = timezone.now()
    nodes = {node.name: node for node in cluster.nodes.all()}
    try:
        swarm = {item.hostname: item for item in docker_engine.swarm_nodes(cluster.docker_endpoint)}
    except EngineError:
        swarm = {}
    # A node's hostname inside its namespace is the machine's, so match by address as well.
    by_address = {item.address: item for item in swarm.values()}
    for node in nodes.values():
        item = swarm.get(node.name) or by_address.get(node.address)
        node.state = Node.State.READY if item and item.state == "ready" else Node.State.DOWN
        if node.state == Node.State.READY:
            node.last_seen = now
        node.save(update_fields=["state", "last_seen"])
    # The dashboard tells whether Consul is up from its agents' system containers: refresh them too.
    try:
        system_containers_sync(cluster=cluster)
    except EngineError:
        pass  # a node that cannot be reached is already recorded as down
    try:
        alive = {m["Name"] for m in consul_engine.members(cluster.consul_address) if m.get("Status") == 1}
        consul_up = bool(consul_engine.leader(cluster.consul_address))
    except EngineError:
        alive, consul_up = set(), False
    return {
        "nodes_total": len(nodes),
        "nodes_ready": sum(1 for node in nodes.values() if node.state == Node.State.READY),
        "consul_leader": consul_up,
        "consul_alive": sorted(alive),
    }


def cluster_refresh_health_request(*, cluster: Cluster) -> None:
    """Ask a worker to look at the cluster's nodes and Consul (web requests never call the cluster)."""
    from networks import tasks  # tasks import services; import lazily to keep the layers one-way

    # robust: with the task queue down, the page still answers (beat refreshes health every minute anyway).
    transaction.on_commit(lambda: tasks.cluster_refresh_health_task.delay(cluster.pk), robust=True)
