"""Thin Celery tasks: ids in, services called. Names are explicit so renames never orphan queued work."""

from celery import shared_task

from networks.engine import ClusterUnavailable
from networks.models import Cluster
from networks.services.clusters import cluster_refresh_health


@shared_task(
    name="networks.cluster_refresh_health",
    acks_late=True,
    autoretry_for=(ClusterUnavailable,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def cluster_refresh_health_task(cluster_id: int) -> dict:
    return cluster_refresh_health(cluster=Cluster.objects.get(pk=cluster_id))
