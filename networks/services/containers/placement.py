"""Where a run goes when no node is named: Swarm's classic spread strategy, over nodes where its host ports are free."""

from __future__ import annotations

from django.db.models import Count, Q

from networks.models import Cluster, Container, Node
from plumbing.errors import ServiceError

from ..ports import node_with_free_ports
from .specs import PublishedPort


def node_pick_spread(*, cluster: Cluster, tenant=None, published: tuple | list[PublishedPort] = ()) -> Node:
    """The ready node with the fewest running containers, as Swarm's classic spread strategy chose;
    of those, the first where the run's host ports are free."""
    nodes = list(
        cluster.nodes.filter(state__in=[Node.State.READY, Node.State.UNKNOWN])
        .annotate(
            load=Count("containers", filter=Q(containers__status=Container.Status.RUNNING, containers__is_system=False))
        )
        .order_by("load", "name")
    )
    if not nodes:
        raise ServiceError(
            "no_node", f"Cluster {cluster.name} has no ready node. Try again when its nodes are up.", http_status=409
        )
    return node_with_free_ports(tenant=tenant, cluster=cluster, nodes=nodes, published=published)
