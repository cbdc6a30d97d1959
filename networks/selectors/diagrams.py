"""The reads behind a cluster's pictures: its address pool as grids and its nodes, networks and
containers placed for drawing (networks.diagrams lays them out)."""

from __future__ import annotations

import ipaddress

from django.db.models import F, Q

from networks import ipam
from networks.diagrams import allocation_map as allocation_map_diagram
from networks.diagrams import topology as topology_diagram
from networks.models import Cluster, SubnetAllocation
from networks.selectors.allocations import cluster_capacity, held_block_totals, subnet_allocation_list
from networks.selectors.containers import container_list
from networks.selectors.networks import network_list
from portal.models import Tenant


def cluster_allocation_map(
    *, tenant: Tenant, cluster: Cluster, focus: str | None = None, selected: str | None = None
) -> tuple[allocation_map_diagram.AllocationMap, ipam.Capacity]:
    """The pool as two grids (see networks.diagrams) and the capacity figures for its legend.

    The same queries whatever the number of held blocks: the overview's cells are drawn from each cell's
    totals (held_block_totals), and only the blocks the picture names one by one are read: those of the
    detail's cell and the picked block, of cells a reserved range touches or holding at most three blocks,
    and any block larger than a cell.
    """
    capacity = cluster_capacity(cluster=cluster)
    pool, diagram = cluster.pool, allocation_map_diagram
    overview_prefixlen, chosen, detail_prefixlen = diagram.zoom(pool, capacity.prefixlen, capacity.next_block, focus)
    picked = diagram.picked_block(selected, pool, overview_prefixlen, detail_prefixlen)
    holders = []
    for reserved in cluster.reserved_ranges.all():
        kind = diagram.HolderKind.SERVICENET if reserved.is_servicenet else diagram.HolderKind.RESERVED
        owner = "ServiceNet" if reserved.is_servicenet else f"reserved range ({reserved.description})"
        holders.append(diagram.Holder.of(reserved.network, kind, owner))
    step = 1 << (32 - overview_prefixlen)
    pool_lo, pool_hi = ipam.to_range(pool)
    totals = held_block_totals(tenant=tenant, cluster=cluster, cell_prefixlen=overview_prefixlen)
    where = Q(last__gt=F("first") + step - 1)  # a block larger than a cell (blocks are aligned)
    by_block: set[int] = set()  # the overview cells drawn from their blocks, not from their totals
    for block in [chosen, *([picked] if picked else []), *(h.cidr for h in holders)]:
        lo, hi = ipam.to_range(ipaddress.IPv4Network(block))
        lo, hi = max(lo, pool_lo) // step * step, (min(hi, pool_hi) // step + 1) * step - 1  # its whole cells
        where |= Q(first__lte=hi, last__gte=lo)
        by_block.update(range(lo, hi + 1, step))
    for first, cell_totals in totals.items():
        if first not in by_block and sum(count for count, _ in cell_totals.values()) <= 3:
            by_block.add(first)
            where |= Q(first__gte=first, last__lte=first + step - 1)
    kinds = {
        SubnetAllocation.Kind.EXTERNAL: diagram.HolderKind.EXTERNAL,
        "other": diagram.HolderKind.OTHER_TEAM,
    }
    holders += [
        diagram.Holder.of(
            ipaddress.IPv4Network(block.cidr),
            kinds.get(block.kind, diagram.HolderKind.NETWORK),
            block.owner,
            block.network_id,
        )
        for block in subnet_allocation_list(tenant=tenant, cluster=cluster, where=where)
    ]
    for first, cell_totals in totals.items():
        if first not in by_block:
            holders += diagram.summary_holders(ipaddress.IPv4Network((first, overview_prefixlen)), cell_totals)
    picture = diagram.allocation_map(
        pool, capacity.prefixlen, holders, next_block=capacity.next_block, focus=focus, selected=selected
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
