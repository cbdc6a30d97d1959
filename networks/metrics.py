"""Prometheus metrics for the operator, read from the database when Prometheus scrapes.

Nothing is counted in process memory: the web server runs several processes, and each would count
only its own requests. The collector asks the database (and the broker, for the queue's length) at
scrape time, so any process answers the same. This is the operator's view across every tenant:
it names clusters, and of what teams put on them only how full each team's networks are and how
much of its grants each team uses (for alerts before a network or a grant runs out).
"""

from __future__ import annotations

from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from networks import ipam
from networks.models import Cluster, ClusterGrant, Container, Network, Operation
from networks.selectors.allocations import cluster_capacity
from networks.selectors.clusters import grant_usage
from networks.selectors.health import ClusterHealth
from networks.selectors.usage import USAGE_COLUMNS, network_usages
from networks.services import queue

PREFIX = "overlay_portal"
# Seconds: an operation is a Docker or Consul call or a few, so most end within a minute.
DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
CELERY_QUEUE = "celery"  # Celery's default queue: the portal's tasks name no other


def _cluster_labels(cluster: Cluster) -> list[str]:
    return [str(cluster.pk), cluster.name]


def operations_by_kind_and_status() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        f"{PREFIX}_operations",
        "Operations recorded, by kind and status (queued, running, succeeded, failed).",
        labels=["kind", "status"],
    )
    counts = {
        (row["kind"], row["status"]): row["n"]
        for row in Operation.objects.order_by().values("kind", "status").annotate(n=Count("id"))
    }
    for kind in Operation.Kind.values:
        for status in Operation.Status.values:
            family.add_metric([kind, status], counts.get((kind, status), 0))
    return family


def operation_durations() -> HistogramMetricFamily:
    """From a worker's start to the end, of every finished operation, by kind and outcome."""
    family = HistogramMetricFamily(
        f"{PREFIX}_operation_duration_seconds",
        "How long finished operations ran, from a worker's start to success or failure.",
        labels=["kind", "outcome"],
    )
    duration = ExpressionWrapper(F("finished") - F("started"), output_field=DurationField())
    buckets = {
        f"le_{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=b))) for i, b in enumerate(DURATION_BUCKETS)
    }
    rows = (
        Operation.objects.order_by()
        .filter(status__in=Operation.FINISHED, started__isnull=False, finished__isnull=False)
        .annotate(duration=duration)
        .values("kind", "status")
        .annotate(count=Count("id"), total=Sum("duration"), **buckets)
    )
    for row in rows:
        cumulative = [(floatToGoString(b), row[f"le_{i}"]) for i, b in enumerate(DURATION_BUCKETS)]
        total = row["total"].total_seconds() if row["total"] else 0.0
        family.add_metric([row["kind"], row["status"]], [*cumulative, ("+Inf", row["count"])], total)
    return family


def queue_depth() -> list[GaugeMetricFamily]:
    unfinished = GaugeMetricFamily(
        f"{PREFIX}_operations_unfinished",
        "Operations a worker has yet to finish (queued or running).",
        value=Operation.objects.unfinished().count(),
    )
    families = [unfinished]
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://")):
        up = GaugeMetricFamily(f"{PREFIX}_broker_up", "1 when the task queue's Redis answered this scrape.")
        client = redis.Redis.from_url(broker, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            length, running = client.llen(CELERY_QUEUE), queue.workers_counted(client)
        except redis.RedisError:
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
            families.append(
                GaugeMetricFamily(
                    f"{PREFIX}_queue_length",
                    "Tasks waiting in the broker's queue for a worker to take them.",
                    value=length,
                )
            )
            families.append(
                GaugeMetricFamily(
                    f"{PREFIX}_workers_running",
                    "Workers that recorded what they hold in the last 10 s: 0 means nothing runs operations.",
                    value=running or 0,
                )
            )
        finally:
            client.close()
        families.append(up)
    return families


def cluster_families() -> list[GaugeMetricFamily]:
    labels = ["cluster_id", "cluster"]
    healthy = GaugeMetricFamily(
        f"{PREFIX}_cluster_healthy", "1 when every node is ready and every Consul agent runs.", labels=labels
    )
    nodes = GaugeMetricFamily(f"{PREFIX}_cluster_nodes", "Nodes of the cluster.", labels=labels)
    ready = GaugeMetricFamily(f"{PREFIX}_cluster_nodes_ready", "Nodes the swarm reports ready.", labels=labels)
    agents = GaugeMetricFamily(f"{PREFIX}_consul_agents", "Consul agents (system containers).", labels=labels)
    alive = GaugeMetricFamily(f"{PREFIX}_consul_agents_alive", "Consul agents running.", labels=labels)
    blocks = GaugeMetricFamily(
        f"{PREFIX}_pool_blocks",
        "Blocks of the cluster's address pool at its default network size, by state (used, reserved, free).",
        labels=[*labels, "state"],
    )
    blocks_total = GaugeMetricFamily(
        f"{PREFIX}_pool_blocks_total", "Blocks of the cluster's address pool at its default size.", labels=labels
    )
    clusters = (
        Cluster.objects.order_by("pk")
        .prefetch_related("nodes")
        .annotate(
            consul_total=Count("containers", filter=Q(containers__is_system=True) & ~Q(containers__status="removed")),
            consul_running=Count(
                "containers", filter=Q(containers__is_system=True, containers__status=Container.Status.RUNNING)
            ),
        )
    )
    for cluster in clusters:
        health = ClusterHealth(cluster, list(cluster.nodes.all()), cluster.consul_running, cluster.consul_total)
        names = _cluster_labels(cluster)
        healthy.add_metric(names, 1 if health.healthy else 0)
        nodes.add_metric(names, health.nodes_total)
        ready.add_metric(names, health.nodes_ready)
        agents.add_metric(names, health.consul_total)
        alive.add_metric(names, health.consul_running)
        try:
            capacity = cluster_capacity(cluster=cluster)
        except ipam.IpamError:
            continue  # a pool the cluster's default size does not fit: nothing to count
        blocks.add_metric([*names, "used"], capacity.used_blocks)
        blocks.add_metric([*names, "reserved"], capacity.reserved_blocks)
        blocks.add_metric([*names, "free"], capacity.free_blocks)
        blocks_total.add_metric(names, capacity.total_blocks)
    return [healthy, nodes, ready, agents, alive, blocks, blocks_total]


def network_utilization() -> GaugeMetricFamily:
    """Each team network's addresses used / usable (of its IP range, or its subnet), 0 to 1."""
    family = GaugeMetricFamily(
        f"{PREFIX}_network_utilization",
        "Addresses used of those Docker hands out on the network (gateway, auxiliary addresses, containers), 0-1.",
        labels=["cluster", "network", "tenant"],
    )
    networks = list(
        Network.objects.filter(is_external=False)
        .live()
        .select_related("cluster", "tenant")
        .only(*USAGE_COLUMNS, "name", "cluster__name", "tenant__slug")
        .order_by("cluster__name", "name")
    )
    usages = network_usages(networks)
    for network in networks:
        assert network.tenant is not None  # not external
        family.add_metric([network.cluster.name, network.name, network.tenant.slug], usages[network.pk].ratio)
    return family


def grant_families() -> list[GaugeMetricFamily]:
    """What each team holds on each cluster beside its grant's limits (a limit only where one is set)."""
    labels = ["cluster", "tenant", "resource"]
    used = GaugeMetricFamily(f"{PREFIX}_grant_used", "What a team holds on a cluster, by resource.", labels=labels)
    limit = GaugeMetricFamily(
        f"{PREFIX}_grant_limit", "The most a team's grant lets it hold on a cluster, by resource.", labels=labels
    )
    for grant in ClusterGrant.objects.select_related("cluster", "tenant").order_by("cluster__name", "tenant__slug"):
        for resource, held, most in grant_usage(grant=grant).rows():
            names = [grant.cluster.name, grant.tenant.slug, resource.replace(" ", "_")]
            used.add_metric(names, held)
            if most is not None:
                limit.add_metric(names, most)
    return [used, limit]


class PortalCollector(Collector):
    """Every family above, computed afresh on each scrape."""

    def collect(self):
        yield operations_by_kind_and_status()
        yield operation_durations()
        yield from queue_depth()
        yield from cluster_families()
        yield network_utilization()
        yield from grant_families()
