"""Tenant-scoped reads. Another tenant's object looks exactly like a missing one."""

import ipaddress

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from networks import ipam
from networks.models import Cluster, Container, Network, Operation, SubnetAllocation
from portal.models import Tenant


def cluster_list(*, tenant: Tenant) -> QuerySet[Cluster]:
    return Cluster.objects.filter(tenant=tenant).prefetch_related("nodes")


def cluster_get(*, tenant: Tenant, pk: int) -> Cluster:
    return get_object_or_404(cluster_list(tenant=tenant), pk=pk)


def cluster_capacity(*, cluster: Cluster, prefixlen: int | None = None) -> ipam.Capacity:
    """Blocks used, free and reserved at the cluster's default size, and the next one to be handed out."""
    prefixlen = prefixlen or cluster.default_prefixlen
    used = [ipaddress.IPv4Network(cidr) for cidr in cluster.subnet_allocations.values_list("cidr", flat=True)]
    reserved = [r.network for r in cluster.reserved_ranges.all()]
    return ipam.capacity(cluster.pool, prefixlen, reserved=reserved, used=used)


def subnet_allocation_list(*, tenant: Tenant, cluster: Cluster) -> QuerySet[SubnetAllocation]:
    return SubnetAllocation.objects.filter(cluster__tenant=tenant, cluster=cluster).select_related("network")


def network_list(*, tenant: Tenant) -> QuerySet[Network]:
    return Network.objects.filter(tenant=tenant).select_related("cluster", "created_by")


def network_get(*, tenant: Tenant, pk: int) -> Network:
    return get_object_or_404(network_list(tenant=tenant), pk=pk)


def container_list(*, tenant: Tenant) -> QuerySet[Container]:
    """The tenant's containers and the system containers of the tenant's clusters (shown, never changed)."""
    return (
        Container.objects.filter(Q(tenant=tenant) | Q(is_system=True, cluster__tenant=tenant))
        .select_related("cluster", "node")
        .prefetch_related("endpoints__network")
    )


def container_get(*, tenant: Tenant, pk: int) -> Container:
    return get_object_or_404(container_list(tenant=tenant), pk=pk)


def operation_list(*, tenant: Tenant) -> QuerySet[Operation]:
    return Operation.objects.filter(tenant=tenant).select_related("cluster", "network", "container", "requested_by")


def operation_get(*, tenant: Tenant, pk: int) -> Operation:
    return get_object_or_404(operation_list(tenant=tenant), pk=pk)


def network_inspect(*, network: Network, timeout: float = 15) -> dict:
    """The live `docker network inspect` view, fetched by a worker (web requests never call Docker)."""
    from networks.tasks import network_inspect_task

    return network_inspect_task.delay(network.pk).get(timeout=timeout)
