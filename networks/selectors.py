"""Tenant-scoped reads. Another tenant's object looks exactly like a missing one."""

import ipaddress

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from networks import ipam
from networks.models import Cluster, SubnetAllocation
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
