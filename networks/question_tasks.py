"""The worker's answers to questions a page, the API or a command waits for (`queue.ask`): a network's live
inspect, a container's diagnostics and logs, a cluster's images, a bundle's connection and a cluster's test.
Thin, as every task: ids in, a service's answer out. `networks/tasks.py` imports this module, so every
worker registers them."""

from __future__ import annotations

from celery import shared_task

from networks.models import Cluster, Container, Network
from networks.services import queue
from networks.services.clusters.connect import cluster_connect_answer
from networks.services.clusters.health import cluster_test_run
from networks.services.containers.images import cluster_images_run
from networks.services.containers.logs import container_logs_read
from networks.services.diagnostics import container_diagnose_run
from networks.services.networks.inspect import network_inspect_live


@shared_task(name=queue.NETWORK_INSPECT, soft_time_limit=30, time_limit=40)
def network_inspect_task(network_id: int) -> dict:
    return network_inspect_live(network=Network.objects.get(pk=network_id))


@shared_task(name=queue.CONTAINER_DIAGNOSE, soft_time_limit=20, time_limit=30)
def container_diagnose_task(container_id: int, target: str, port: int | None) -> dict:
    return container_diagnose_run(container=Container.objects.get(pk=container_id), target=target, port=port)


@shared_task(name=queue.CONTAINER_LOGS, soft_time_limit=20, time_limit=30)
def container_logs_task(container_id: int, tail: int, since: str | None) -> list[dict]:
    return container_logs_read(container=Container.objects.get(pk=container_id), tail=tail, since=since)


@shared_task(name=queue.CLUSTER_CONNECT, soft_time_limit=40, time_limit=50)
def cluster_connect_task(sealed_bundle: dict) -> dict:
    return cluster_connect_answer(sealed_bundle)


@shared_task(name=queue.CLUSTER_TEST, soft_time_limit=100, time_limit=110)
def cluster_test_task(cluster_id: int) -> dict:
    return cluster_test_run(cluster=Cluster.objects.get(pk=cluster_id))


@shared_task(name=queue.CLUSTER_IMAGES, soft_time_limit=20, time_limit=30)
def cluster_images_task(cluster_id: int) -> dict[str, list[str]]:
    return cluster_images_run(cluster=Cluster.objects.get(pk=cluster_id))
