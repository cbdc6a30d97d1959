"""The containers a team sees, its own and the system containers of its clusters: lists, one by id,
those that publish ports, how many have exited, and the images they were run from."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from networks.models import ClusterGrant, Container, ContainerQuerySet
from portal.models import Tenant


def container_list(*, tenant: Tenant) -> ContainerQuerySet:
    """The tenant's containers and the system containers of the tenant's clusters (shown, never changed)."""
    granted = ClusterGrant.objects.filter(tenant=tenant).values("cluster_id")
    return (
        Container.objects.filter(Q(tenant=tenant) | Q(is_system=True, cluster_id__in=granted))
        .select_related("cluster", "node")
        .prefetch_related("endpoints__network")
    )


def container_get(*, tenant: Tenant, pk: int) -> Container:
    return get_object_or_404(container_list(tenant=tenant), pk=pk)


def container_exposed_list(*, tenant: Tenant) -> QuerySet[Container]:
    """The tenant's live containers that publish ports: reachable from the Internet and ServiceNet."""
    return container_list(tenant=tenant).filter(tenant=tenant).present().exposed()


def container_exited_count(*, tenant: Tenant) -> int:
    """How many of the tenant's own containers have exited: what removing the exited ones would remove."""
    return Container.objects.filter(tenant=tenant, status=Container.Status.EXITED, is_system=False).count()


def container_image_list(*, tenant: Tenant) -> list[str]:
    """The images the tenant's containers were run from, each once, in order."""
    return sorted(set(Container.objects.filter(tenant=tenant).values_list("image", flat=True)))
