"""The cluster's system containers (its Consul agents): found on every node by their label and recorded
as protected rows that no team owns."""

from __future__ import annotations

from networks import labels as docker_labels
from networks.engine import docker as docker_engine
from networks.models import Cluster, Container

from .state import docker_state_of, docker_time


def system_containers_sync(*, cluster: Cluster) -> int:
    """Record the cluster's system containers (its Consul agents), labelled as system on every node, each
    created when Docker created it."""
    count = 0
    for node in cluster.nodes.all():
        for attrs in docker_engine.list_containers(
            node.docker, label=docker_labels.selector(**{docker_labels.SYSTEM: "true"})
        ):
            name = attrs["Name"].lstrip("/")
            container, _ = Container.objects.update_or_create(
                cluster=cluster,
                name=name,
                is_system=True,
                defaults={
                    "node": node,
                    "tenant": None,
                    "image": attrs["Config"]["Image"],
                    "docker_id": attrs["Id"],
                    **docker_state_of(attrs),
                    "labels": attrs["Config"].get("Labels") or {},
                },
            )
            made = docker_time(attrs.get("Created"))  # not when the portal first saw it: `docker ps`'s CREATED
            if made is not None and container.created != made:
                Container.objects.filter(pk=container.pk).update(created=made)
            count += 1
    return count
