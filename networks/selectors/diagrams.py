"""The reads behind a cluster's pictures: its address pool as grids and its nodes, networks and
containers placed for drawing (networks.diagrams lays them out)."""

from __future__ import annotations

import ipaddress

from networks import ipam
from networks.diagrams import allocation_map as allocation_map_diagram
from networks.diagrams import topology as topology_diagram
from networks.models import Cluster, SubnetAllocation
from networks.selectors.allocations import cluster_capacity, subnet_allocation_list
from networks.selectors.containers import container_list
from networks.selectors.networks import network_list
from portal.models import Tenant


def cluster_allocation_map(
    *, tenant: Tenant, cluster: Cluster, focus: str | None = None, selected: str | None = None
) -> tuple[allocation_map_diagram.AllocationMap, ipam.Capacity]:
    """The pool as two grids (see networks.diagrams) and the capacity figures for its legend."""
    capacity = cluster_capacity(cluster=cluster)
    kinds = {
        SubnetAllocation.Kind.EXTERNAL: allocation_map_diagram.HolderKind.EXTERNAL,
        "other": allocation_map_diagram.HolderKind.OTHER_TEAM,
    }
    holders = [
        allocation_map_diagram.Holder.of(
            ipaddress.IPv4Network(block.cidr),
            kinds.get(block.kind, allocation_map_diagram.HolderKind.NETWORK),
            block.owner,
            block.network_id,
        )
        for block in subnet_allocation_list(tenant=tenant, cluster=cluster)
    ]
    for reserved in cluster.reserved_ranges.all():
        kind = (
            allocation_map_diagram.HolderKind.SERVICENET
            if reserved.is_servicenet
            else allocation_map_diagram.HolderKind.RESERVED
        )
        owner = "ServiceNet" if reserved.is_servicenet else f"reserved range ({reserved.description})"
        holders.append(allocation_map_diagram.Holder.of(reserved.network, kind, owner))
    picture = allocation_map_diagram.allocation_map(
        cluster.pool,
        capacity.prefixlen,
        holders,
        next_block=capacity.next_block,
        focus=focus,
        selected=selected,
    )
    return picture, capacity


def cluster_topology(*, tenant: Tenant, cluster: Cluster, show_empty: bool = False) -> topology_diagram.Topology:
    """The cluster's nodes, live networks and containers (system ones included), placed for drawing; networks
    no container is on only with `show_empty`."""
    nodes = [
        topology_diagram.TopoNode(node.name, node.address, node.get_role_display(), node.state)
        for node in cluster.nodes.all()
    ]
    networks = [
        topology_diagram.TopoNetwork(n.pk, n.name, n.subnet, n.tenant_id != tenant.pk, n.status)
        for n in network_list(tenant=tenant).filter(cluster=cluster).live().order_by("name")
    ]
    containers = [
        topology_diagram.TopoContainer(
            id=c.pk,
            name=c.name,
            image=c.image,
            status=c.status,
            node=c.node.name if c.node else "",
            exposed=c.is_exposed,
            exposure=c.exposure,
            system=c.is_system,
            network_ids=[e.network_id for e in c.endpoints.all()],
        )
        for c in container_list(tenant=tenant).filter(cluster=cluster).present().order_by("is_system", "name")
    ]
    return topology_diagram.topology(nodes, networks, containers, show_empty=show_empty)
