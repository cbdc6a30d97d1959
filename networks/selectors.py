"""Tenant-scoped reads. Another tenant's object looks exactly like a missing one."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from networks.models import Cluster
from portal.models import Tenant


def cluster_list(*, tenant: Tenant) -> QuerySet[Cluster]:
    return Cluster.objects.filter(tenant=tenant).prefetch_related("nodes")


def cluster_get(*, tenant: Tenant, pk: int) -> Cluster:
    return get_object_or_404(cluster_list(tenant=tenant), pk=pk)
