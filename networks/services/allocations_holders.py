"""Who holds a block of a swarm, as a team may be told of it: its own (or shared) network by name, another team's
unnamed, one of Docker's own networks (the ingress every swarm has) by name, any other made outside the portal
unnamed. Read inside the swarm's lock (allocations.py), or before it to answer a form as the user types."""

from __future__ import annotations

import ipaddress

from networks import ipam
from networks.models import Cluster, SubnetAllocation
from networks.models.network import PREDEFINED_NAMES


def held_overlapping(cluster: Cluster, subnet: ipaddress.IPv4Network, tenant=None) -> list[ipam.Taken]:
    """The held block overlapping `subnet`, named as `tenant` may see it (another team's is not named)."""
    lo, hi = ipam.to_range(subnet)
    for pending in getattr(cluster, "_batch_pending", ()):  # a batch's own blocks, not written yet: its team's
        if pending.first <= hi and pending.last >= lo:
            return [ipam.Taken(ipaddress.IPv4Network(pending.cidr), pending.owner)]
    row = (
        SubnetAllocation.objects.filter(cluster=cluster, first__lte=hi)
        .select_related("network")
        .order_by("-first")
        .first()
    )
    if row is None or row.last < lo:
        return []
    owner = row.owner
    if tenant is not None and not (row.network and row.network.is_usable_by(tenant)):
        owner = unusable_owner(row)
    return [ipam.Taken(row.subnet, owner)]


def unusable_owner(row: SubnetAllocation) -> str:
    """The holder of a block as a team that may not use it is told of it: one of Docker's own networks by its
    name (every swarm has an ingress, 10.0.0.0/24 unless told otherwise: the first block a user tries), any
    other unnamed."""
    if row.kind != SubnetAllocation.Kind.EXTERNAL:
        return "another team's network"
    if row.network is not None and row.network.name in PREDEFINED_NAMES:
        return f'Docker\'s "{row.network.name}" network'
    return "a network made outside the portal"
