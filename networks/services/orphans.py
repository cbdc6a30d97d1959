"""Docker networks and held blocks that nothing live stands behind any more: a create that failed after
Docker made its network (or was given up while Docker made it), and blocks a create stepped past because
the swarm held them. Run by reconcile (services/reconcile.py), which reports every change in words.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from django.utils import timezone

from networks import ipam
from networks import labels as docker_labels
from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.models import Cluster, Network, SubnetAllocation

from .allocations import subnet_release, subnet_release_in_consul, subnet_reservations_elsewhere

# A Docker network with the portal's labels whose record is failed or gone is left this long after Docker
# made it: a run given up by staff may still be finishing (its own clean-up removes what it made).
ORPHAN_GRACE_SECONDS = 60


def portal_network_id(cluster: Cluster, attrs: dict) -> str | None:
    """The portal's id of the network a Docker network was made for, when this cluster's portal made it."""
    found_labels = attrs.get("Labels") or {}
    if found_labels.get(docker_labels.CLUSTER) != str(cluster.uid):
        return None
    return found_labels.get(docker_labels.NETWORK_ID) or None


def _docker_created(attrs: dict) -> datetime | None:
    """When Docker made the network ("2026-12-04T22:13:55.123456789Z": nanoseconds cut to microseconds)."""
    text = attrs.get("Created") or ""
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def orphans_remove(cluster: Cluster, docker_networks: dict, known: dict, *, grace: float) -> list[str]:
    """Docker networks with the portal's labels whose record is failed, removed or missing (a create that
    failed after Docker made its network, a duplicate of a record that has another): removed, and the
    blocks held for them freed. A record still being created (or removed) is left to its run."""
    changes = []
    settled = timezone.now() - timedelta(seconds=grace)
    for docker_id, attrs in list(docker_networks.items()):
        pk = portal_network_id(cluster, attrs)
        if docker_id in known or pk is None:
            continue
        record = Network.objects.filter(cluster=cluster, pk=int(pk)).first() if pk.isdigit() else None
        if record is not None and record.status in (Network.Status.CREATING, Network.Status.REMOVING):
            continue  # its run records or removes it
        created = _docker_created(attrs)
        if created is not None and created > settled:
            continue  # a run given up a moment ago may still be finishing; look next time
        del docker_networks[docker_id]
        name = attrs.get("Name", "")
        if record is None:
            state = "is missing"
        elif record.status == Network.Status.ACTIVE:
            state = f"is active on another Docker network ({record.docker_id[:12]})"
        else:
            state = f"is {record.get_status_display().lower()}"
        try:
            docker_engine.remove_network(cluster.docker, docker_id)
        except EngineError as error:
            changes.append(
                f'Network "{name}" ({docker_id[:12]}) carries the portal\'s labels but its record {state}; '
                f"it could not be removed ({error}). Remove it with docker network rm."
            )
            continue
        freed = _free_holds_of(cluster, attrs, record)
        changes.append(
            f'Network "{name}" ({docker_id[:12]}) carried the portal\'s labels but its record {state} (a create '
            f"that failed after Docker made it): removed from the swarm{f', {freed} freed' if freed else ''}."
        )
    return changes


def _free_holds_of(cluster: Cluster, attrs: dict, record: Network | None) -> str:
    """Free what was held because of a removed orphan: its failed record's block, and a block a create
    stepped past because the swarm held it (an external hold with no network). Returns the blocks, in words."""
    subnets = [c["Subnet"] for c in (attrs.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
    holds = list(SubnetAllocation.objects.filter(cluster=cluster, network=None, cidr__in=subnets))
    if record is not None and record.status == Network.Status.FAILED:
        holds += list(SubnetAllocation.objects.filter(network=record))
    for allocation in holds:
        subnet_release(allocation=allocation)
        try:
            subnet_release_in_consul(cluster=cluster, cidr=allocation.cidr)
        except EngineError:
            pass  # the Consul pass below removes the stale key
    return ", ".join(sorted({a.cidr for a in holds}))


def failed_holds_free(cluster: Cluster, docker_networks: dict) -> list[str]:
    """Failed networks still holding their block (their create could not reach the cluster to remove what
    it made): the block is freed once the swarm has no network made for them."""
    made_for = {portal_network_id(cluster, attrs) for attrs in docker_networks.values()}
    changes = []
    # The failed networks first (an index probe), then their blocks: not a join over every block of the swarm.
    failed_networks = Network.objects.filter(cluster=cluster, status=Network.Status.FAILED).values("pk")
    failed = SubnetAllocation.objects.filter(cluster=cluster, network__in=failed_networks)
    for allocation in failed.select_related("network"):
        if str(allocation.network_id) in made_for:
            continue  # _reconcile_orphans removes it, then frees the block
        subnet_release(allocation=allocation)
        try:
            subnet_release_in_consul(cluster=cluster, cidr=allocation.cidr)
        except EngineError:
            pass
        assert allocation.network is not None  # the query asked for the blocks of failed networks
        changes.append(
            f'Network "{allocation.network.name}" failed; the swarm has nothing made for it: {allocation.cidr} freed.'
        )
    return changes


def stale_holds_free(cluster: Cluster) -> list[str]:
    """Blocks a create stepped past because the swarm held them (services/builds.py): freed once the swarm
    has no network on them and no other writer reserves them in the state store."""
    holds = list(SubnetAllocation.objects.filter(cluster=cluster, kind=SubnetAllocation.Kind.EXTERNAL, network=None))
    if not holds:
        return []
    in_swarm = [
        (attrs.get("Name", ""), config["Subnet"])
        for attrs in docker_engine.find_networks(cluster.docker)
        for config in (attrs.get("IPAM") or {}).get("Config") or []
        if config.get("Subnet")
    ]
    elsewhere = subnet_reservations_elsewhere(cluster=cluster)
    changes = []
    for allocation in holds:
        block = ipaddress.IPv4Network(allocation.cidr)
        if ipam.first_overlapping(block, in_swarm) or ipam.first_overlapping(
            block, [(o, c) for c, o in elsewhere.items()]
        ):
            continue
        subnet_release(allocation=allocation)
        try:
            subnet_release_in_consul(cluster=cluster, cidr=allocation.cidr)
        except EngineError:
            pass  # the Consul pass below removes the stale key
        changes.append(
            f"{allocation.cidr} was held because the swarm had it ({allocation.owner}); it no longer does: freed."
        )
    return changes
