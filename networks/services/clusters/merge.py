"""One swarm, one cluster: merging clusters registered before swarm IDs were recorded."""

from __future__ import annotations

from django.db import transaction

from networks import ipam
from networks.models import Cluster, Network, SubnetAllocation
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.changes import change_record

from .connect import cluster_connect
from .credentials import cluster_bundle


def cluster_merge_swarms(*, actor: Actor) -> list[str]:
    """Record every cluster's swarm ID and merge clusters that are one swarm into the oldest of them.

    Returns what it did, in words. Two rows for one swarm can only come from registrations made
    before the swarm ID was recorded (the constraint refuses them now). Grants, networks,
    containers and operations move to the kept cluster; a network whose subnet or name clashes
    with one already there was broken in the swarm all along (swarmkit accepts an overlapping
    overlay and leaves it unusable) and is recorded as removed.
    """
    said: list[str] = []
    groups: dict[str, list[Cluster]] = {}
    for cluster in Cluster.objects.order_by("pk"):
        swarm = cluster.swarm_id
        if not swarm:
            try:
                swarm = cluster_connect(cluster_bundle(cluster)).swarm_id
            except ServiceError as error:
                said.append(
                    f'Cluster "{cluster.name}": its swarm ID could not be read ({error.message}) Left as it is.'
                )
                continue
        groups.setdefault(swarm, []).append(cluster)
    for swarm, (keep, *others) in groups.items():
        for other in others:
            said += _merge_into(keep, other)
        if keep.swarm_id != swarm or others:
            Cluster.objects.filter(pk=keep.pk).update(swarm_id=swarm, allocation_floor=None)
            said.append(f'Cluster "{keep.name}" is swarm {swarm}.')
    if said:
        change_record(actor=actor, action="cluster.merge", tenant=None, details={"said": said})
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
