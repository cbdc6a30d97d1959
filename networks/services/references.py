"""What a request names, found for the service that acts on it, or refused in one sentence.

A body may name a cluster by id (or none, when the team has one), a network by id or by name, a
container by id and a node by name. The API's creates and actions resolve them here before they
call the service that acts, so a refusal reads the same wherever the name came from.
"""

from __future__ import annotations

from networks.models import Cluster, Container, Network, Node
from networks.selectors.clusters import cluster_granted_find, cluster_list, node_find
from networks.selectors.containers import container_get
from networks.selectors.networks import network_find
from plumbing.errors import ServiceError, found, not_found
from portal.models import Tenant

from .networks.rules import network_not_usable


def cluster_named(*, tenant: Tenant, pk: int | None) -> Cluster:
    """The cluster named in a body, or the tenant's only one when none is named."""
    if pk is not None:
        cluster = cluster_granted_find(tenant=tenant, pk=pk)
        if cluster is None:
            raise not_found("cluster", field="cluster")
        return cluster
    clusters = list(cluster_list(tenant=tenant)[:10])
    if not clusters:
        raise ServiceError(
            "no_cluster",
            f"{tenant.name} has no cluster yet. An admin registers one with manage.py cluster_register.",
            field="cluster",
            http_status=409,
        )
    if len(clusters) > 1:
        raise ServiceError(
            "cluster_required",
            f"{tenant.name} has several clusters ({', '.join(c.name for c in clusters)}); send the cluster's id.",
            field="cluster",
        )
    return clusters[0]


def network_named(*, tenant: Tenant, cluster: Cluster, ref: int | str, field: str) -> Network:
    """A live network the tenant may use on the cluster (its own or shared with it), by id or by name."""
    network = network_find(tenant=tenant, cluster=cluster, ref=ref)
    if network is None:
        raise network_not_usable(ref, field=field)
    return network


def container_named(*, tenant: Tenant, pk: int, field: str = "container") -> Container:
    """One of the tenant's containers (or a system container of its clusters, which services refuse to change)."""
    return found(container_get, "container", field=field, tenant=tenant, pk=pk)


def node_named(*, cluster: Cluster, name: str) -> Node | None:
    """The cluster's node of that name; None for no name (the container goes where the fewest run)."""
    name = name.strip()
    if not name:
        return None
    node = node_find(cluster=cluster, name=name)
    if node is None:
        raise ServiceError("bad_node", f'Cluster {cluster.name} has no node named "{name}".', field="node")
    return node
