"""Rotating a registered cluster's credentials: a new bundle is used only once it reaches the same swarm."""

from __future__ import annotations

from django.db import transaction

from networks.bundles import Bundle
from networks.models import Cluster
from plumbing.errors import ServiceError
from portal.actors import Actor

from .connect import CONNECT_WAIT_SECONDS, SwarmFound, cluster_connect_ask
from .credentials import cluster_change_record, cluster_credentials_set, cluster_nodes_record
from .health import cluster_refresh_health_request


def cluster_credentials_rotate_ask(
    *, actor: Actor, cluster: Cluster, bundle: Bundle, timeout: float = CONNECT_WAIT_SECONDS
) -> Cluster:
    """The web's way to rotate: a worker connects with the new bundle; once it reached the same swarm, the old
    credentials are dropped."""
    found = cluster_connect_ask(bundle, timeout=timeout)
    with transaction.atomic():
        cluster = cluster_credentials_rotate(cluster=cluster, found=found, bundle=bundle)
        cluster_change_record(actor=actor, action="cluster.rotate", cluster=cluster)
    cluster_refresh_health_request(cluster=cluster)
    return cluster


@transaction.atomic
def cluster_credentials_rotate(*, cluster: Cluster, found: SwarmFound, bundle: Bundle) -> Cluster:
    """Use a new bundle for a registered swarm from now on: the old credentials are dropped at once."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if found.swarm_id != cluster.swarm_id:
        raise ServiceError(
            "other_swarm",
            f'That bundle reaches swarm {found.swarm_id}, not "{cluster.name}" ({cluster.swarm_id}). Upload the '
            "bundle of this cluster, or register the other swarm as a cluster of its own.",
            field="bundle",
            http_status=409,
        )
    cluster_credentials_set(cluster, found, bundle)
    cluster.save()
    cluster_nodes_record(cluster, found)
    return cluster
