from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from networks import ipam
from networks import labels as docker_labels
from networks.engine import EngineError
from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Cluster, ClusterGrant, Network, Node, ReservedRange, SubnetAllocation
from plumbing.errors import ServiceError
from portal.models import Tenant

from . import queue
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


def cluster_register(*, tenant: Tenant, description: dict, name: str | None = None) -> Cluster:
    """Register a swarm for a tenant from its description, or refresh it (idempotent).

    The swarm's ID is read from its manager: a swarm is registered once, and other teams get it
    by a grant. A new cluster gets ServiceNet as a reserved range, so no network is ever placed on it.
    """
    nodes = description["nodes"]
    manager = next((node for node in nodes if node["name"] == description["manager"]), None)
    if manager is None:
        raise ClusterDescriptionError(f'The manager "{description["manager"]}" is not among the nodes.')
    swarm_id = docker_engine.swarm_id(manager["docker_endpoint"])
    return cluster_record(tenant=tenant, description=description, name=name or description["name"], swarm_id=swarm_id)


@transaction.atomic
def cluster_record(*, tenant: Tenant, description: dict, name: str, swarm_id: str) -> Cluster:
    """Record a swarm whose ID was read from it: new, refreshed, or refused when another team has it."""
    cluster = Cluster.objects.select_for_update().filter(swarm_id=swarm_id).first()
    if cluster is not None and not ClusterGrant.objects.filter(cluster=cluster, tenant=tenant).exists():
        raise ServiceError(
            "swarm_registered",
            f'This swarm ({swarm_id}) is already registered as cluster "{cluster.name}" (id {cluster.pk}). '
            f"To let {tenant.name} use it, grant it: manage.py cluster_grant --cluster {cluster.pk} "
            f"--tenant {tenant.slug}, or add a grant on the cluster's page in the admin.",
            http_status=409,
        )
    if cluster is None:
        cluster = Cluster.objects.select_for_update().filter(name=name).first()
        if cluster is not None and not ClusterGrant.objects.filter(cluster=cluster, tenant=tenant).exists():
            raise ServiceError(
                "name_taken",
                f'A cluster named "{name}" already exists for other teams. Register this swarm under another '
                "name (--name).",
                field="name",
                http_status=409,
            )
    manager = next(node for node in description["nodes"] if node["name"] == description["manager"])
    if cluster is None:
        cluster = Cluster.objects.create(
            name=name,
            swarm_id=swarm_id,
            docker_endpoint=manager["docker_endpoint"],
            consul_address=description["consul_http_address"],
        )
        ReservedRange.objects.create(
            cluster=cluster, cidr=str(ipam.SERVICENET), description="ServiceNet", is_servicenet=True
        )
        ClusterGrant.objects.create(cluster=cluster, tenant=tenant)
    else:
        # The same swarm again, or (same name, new ID) the swarm was rebuilt: its old networks are
        # gone with it, and the reconcile that follows registration marks them so.
        cluster.swarm_id = swarm_id
        cluster.docker_endpoint = manager["docker_endpoint"]
        cluster.consul_address = description["consul_http_address"]
        cluster.save()
    seen = []
    for node in description["nodes"]:
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
            node.listening_ports = _listening_ports(node)
        node.save(update_fields=["state", "last_seen", "listening_ports"])
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


def _listening_ports(node: Node) -> list:
    """What the node's own programs listen on now, or what was known when it cannot be read."""
    try:
        found = docker_engine.listening_ports(
            node.docker_endpoint, image=settings.NODE_PROBE_IMAGE, labels={docker_labels.PROBE: "true"}
        )
    except EngineError:
        return node.listening_ports  # no probe image on the node, or the node does not answer
    return [list(pair) for pair in found]


def cluster_refresh_health_request(*, cluster: Cluster) -> None:
    """Ask a worker to look at the cluster's nodes and Consul (web requests never call the cluster)."""
    # robust: with the task queue down, the page still answers (beat refreshes health every minute anyway).
    queue.send_on_commit(queue.CLUSTER_REFRESH_HEALTH, cluster.pk, robust=True)


def cluster_refresh_health_ask(*, cluster: Cluster, timeout: float) -> dict:
    """Have a worker look at the cluster now and wait for what it found."""
    return queue.ask(queue.CLUSTER_REFRESH_HEALTH, cluster.pk, timeout=timeout)


# --- one swarm, one cluster: merging registrations made before swarm IDs were recorded ---------


def cluster_merge_swarms() -> list[str]:
    """Record every cluster's swarm ID and merge clusters that are one swarm into the oldest of them.

    Returns what it did, in words. Two rows for one swarm can only come from registrations made
    before the swarm ID was recorded (the constraint refuses them now). Grants, networks,
    containers and operations move to the kept cluster; a network whose subnet or name clashes
    with one already there was broken in the swarm all along (swarmkit accepts an overlapping
    overlay and leaves it unusable) and is recorded as removed.
    """
    said, groups = [], {}
    for cluster in Cluster.objects.order_by("pk"):
        swarm = cluster.swarm_id
        if not swarm:
            try:
                swarm = docker_engine.swarm_id(cluster.docker_endpoint)
            except EngineError as error:
                said.append(f'Cluster "{cluster.name}": its swarm ID could not be read ({error}) Left as it is.')
                continue
        groups.setdefault(swarm, []).append(cluster)
    for swarm, (keep, *others) in groups.items():
        for other in others:
            said += _merge_into(keep, other)
        if keep.swarm_id != swarm or others:
            Cluster.objects.filter(pk=keep.pk).update(swarm_id=swarm, allocation_floor=None)
            said.append(f'Cluster "{keep.name}" is swarm {swarm}.')
    return said


@transaction.atomic
def _merge_into(keep: Cluster, other: Cluster) -> list[str]:
    said = [f'Cluster "{other.name}" is the same swarm as "{keep.name}": merged into it.']
    for grant in other.grants.all():
        if not keep.grants.filter(tenant=grant.tenant_id).exists():
            grant.cluster = keep
            grant.save(update_fields=["cluster"])
            said.append(f"  {grant.tenant.name} now uses {keep.name}.")
    nodes = {node.name: node for node in keep.nodes.all()}
    for network in other.networks.select_related("tenant").order_by("pk"):
        allocation = getattr(network, "allocation", None)
        clash = network.status in Network.LIVE_STATUSES and (
            keep.networks.live().filter(name=network.name).exists()
            or (
                allocation is not None
                and keep.subnet_allocations.filter(first__lte=allocation.last, last__gte=allocation.first).exists()
            )
        )
        if allocation is not None:
            allocation.delete()
        if clash:
            network.endpoints.all().delete()
            network.address_allocations.all().delete()
            network.status = Network.Status.REMOVED
            network.cluster = keep
            network.save(update_fields=["status", "cluster", "updated"])
            said.append(
                f'  Network "{network.name}" ({network.subnet}) clashed with one already on the swarm and was '
                "broken there: recorded as removed. Its team can create it again."
            )
            continue
        network.cluster = keep
        network.save(update_fields=["cluster", "updated"])
        if allocation is not None and network.status in Network.LIVE_STATUSES:
            first, last = ipam.to_range(network.subnet_network)
            SubnetAllocation.objects.create(
                cluster=keep,
                network=network,
                cidr=network.subnet,
                first=first,
                last=last,
                kind=allocation.kind,
                owner=allocation.owner,
            )
        said.append(f'  Network "{network.name}" moved.')
    for container in other.containers.select_related("node"):
        if container.is_system:
            container.delete()
            continue
        container.cluster = keep
        container.node = nodes.get(container.node.name) if container.node else None
        container.save(update_fields=["cluster", "node", "updated"])
    other.operations.update(cluster=keep)
    other.delete()
    return said


def state_store_outage(*, operation, outage: EngineError) -> EngineError:
    """What an operation does when Consul does not answer: wait (the outage itself, retried with backoff)
    until STATE_STORE_WAIT_SECONDS have passed since it started, then fail with a sentence that names
    what is down, as far as Docker can tell (a Consul agent's container not running, or the API)."""
    waited = (timezone.now() - (operation.started or timezone.now())).total_seconds()
    if waited < settings.STATE_STORE_WAIT_SECONDS:
        return outage
    cluster = operation.cluster
    try:
        system_containers_sync(cluster=cluster)
    except EngineError:
        pass  # a node that does not answer: what the database last knew still says something
    stopped = [
        f"{agent.name} on {agent.node.name if agent.node else 'its node'}"
        for agent in cluster.containers.filter(is_system=True).exclude(status="running").select_related("node")
    ]
    if stopped:
        down = f"The Consul agent {', '.join(stopped)} is not running."
    else:
        down = f"Every Consul agent's container runs, but Consul's API at {cluster.consul_address} does not answer."
    return EngineError(
        f"The cluster's state store (Consul) did not answer for {int(waited)} s, so this was not done. {down} "
        "Start the agent (or ask the cluster's operator to), then try again.",
        code="state_store_unavailable",
        raw=outage.raw,
    )
