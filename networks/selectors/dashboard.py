"""The dashboard's one read of a team's portal: its clusters' health, how many networks and containers it
has, which containers it exposes, which networks are filling up, and its latest operations."""

from __future__ import annotations

from django.conf import settings

from networks.models import Container
from networks.selectors.containers import container_exposed_list
from networks.selectors.health import cluster_health_list
from networks.selectors.networks import network_list, network_unused_list
from networks.selectors.operations import operation_list
from networks.selectors.usage import networks_filling_up
from portal.models import Tenant


def dashboard_summary(*, tenant: Tenant) -> dict:
    live_networks = network_list(tenant=tenant).live()
    live_containers = Container.objects.filter(tenant=tenant).present()
    return {
        "clusters": cluster_health_list(tenant=tenant),
        "networks_count": live_networks.filter(tenant=tenant).count(),
        "shared_networks_count": live_networks.exclude(tenant=tenant).count(),
        "containers_count": live_containers.count(),
        "running_count": live_containers.filter(status=Container.Status.RUNNING).count(),
        "exposed": list(container_exposed_list(tenant=tenant)[:20]),
        "operations": list(operation_list(tenant=tenant)[:8]),
        "operations_unfinished": operation_list(tenant=tenant).unfinished().count(),
        "filling_up": networks_filling_up(tenant=tenant),
        "unused_count": network_unused_list(tenant=tenant, days=settings.UNUSED_NETWORK_DAYS).count(),
        "unused_days": settings.UNUSED_NETWORK_DAYS,
        "usage_warning": settings.NETWORK_UTILIZATION_WARNING,
    }
