"""The Consul mirror of the allocator's blocks (run by workers only: web requests never talk to Consul):
each held block's key in the cluster's state store, created with check-and-set so that a second writer
fails instead of overwriting, and removed with the block."""

from __future__ import annotations

import ipaddress
import json

from networks import ipam
from networks.engine import consul as consul_engine
from networks.models import Cluster, SubnetAllocation

from .state import subnet_key


class SubnetConflict(ipam.IpamError):
    """The cluster's state store says another writer already holds the block (or, under the swarm's lock,
    the database's constraint does: something bypassed the lock)."""


def subnet_reserve_in_consul(*, allocation: SubnetAllocation) -> None:
    """Create the block's key with check-and-set 0: a second writer fails instead of overwriting."""
    cluster = allocation.cluster
    key, value = subnet_reservation(allocation)
    if consul_engine.kv_put(cluster.consul, key, value, cas=0):
        return
    existing = consul_engine.kv_get(cluster.consul, key)
    if existing and json.loads(existing).get("allocation") == allocation.pk:
        return  # our own key, written by an earlier try of the same task
    raise SubnetConflict(
        "subnet_taken_in_store",
        f"{allocation.cidr} is already reserved in the cluster's state store by another writer. "
        "Reconcile the cluster, then try again.",
        "subnet",
    )


def subnets_reserve_in_consul(*, cluster: Cluster, allocations: list[SubnetAllocation]) -> bool:
    """Create the keys of many blocks of `cluster` with check-and-set 0, in Consul transactions: False when
    one of them exists already (then that transaction wrote none: reserve each alone, which tells a block
    of ours from another writer's)."""
    return consul_engine.kv_put_all(cluster.consul, [subnet_reservation(a) for a in allocations], create=True)


def subnet_reservation(allocation: SubnetAllocation) -> tuple[str, str]:
    """The block's key in the cluster's state store and the value this portal writes there."""
    key = subnet_key(allocation.cluster, allocation.cidr)
    value = json.dumps(
        {
            "allocation": allocation.pk,
            "cidr": allocation.cidr,
            "owner": allocation.owner,
            "network": allocation.network_id,
            "tenant": allocation.network.tenant.slug if allocation.network and allocation.network.tenant else "",
        },
        sort_keys=True,
    )
    return key, value


def subnet_reservations_elsewhere(*, cluster: Cluster) -> dict[str, str]:
    """The blocks other writers on the swarm (another portal) reserved in its state store, CIDR -> the
    owner they wrote: every reservation that is not one of this portal's allocations."""
    tree = consul_engine.kv_get_tree(cluster.consul, f"{cluster.consul_prefix}/subnets/")
    ours = set(SubnetAllocation.objects.filter(cluster=cluster).values_list("cidr", "pk"))
    found = {}
    for raw in tree.values():
        try:
            document = json.loads(raw)
            cidr = str(ipaddress.IPv4Network(document["cidr"], strict=False))
        except (ValueError, KeyError, TypeError):
            continue
        if (cidr, document.get("allocation")) not in ours:
            found[cidr] = str(document.get("owner") or "another writer")
    return found


def subnet_release_in_consul(*, cluster: Cluster, cidr: str) -> None:
    consul_engine.kv_delete(cluster.consul, subnet_key(cluster, cidr))
