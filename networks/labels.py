"""The Docker labels the portal puts on what it makes, and finds its own objects again by.

Every label the portal reads or writes is named here; labels starting with PREFIX are the
portal's own, and users may not set them.
"""

from __future__ import annotations

PREFIX = "overlay-portal."
MANAGED = f"{PREFIX}managed"  # "true" on every network and container the portal made
SYSTEM = f"{PREFIX}system"  # "true" on the cluster's protected system containers (its Consul agents)
CLUSTER = f"{PREFIX}cluster"  # the portal cluster's uid
TENANT = f"{PREFIX}tenant"  # the slug of the team that asked for it
NETWORK_ID = f"{PREFIX}network-id"  # the portal's id of the network
CONTAINER_ID = f"{PREFIX}container-id"  # the portal's id of the container


def portal_labels(*, cluster_uid: str, tenant_slug: str, id_label: str, pk: int) -> dict[str, str]:
    """What the portal writes on an object it makes, so an idempotent retry or a reconcile finds it again."""
    return {MANAGED: "true", CLUSTER: str(cluster_uid), id_label: str(pk), TENANT: tenant_slug}


def is_portal_label(key: str) -> bool:
    return key.startswith(PREFIX)


def selector(**pairs: str) -> list[str]:
    """`docker ... --filter label=KEY=VALUE` filters for the given labels."""
    return [f"{key}={value}" for key, value in pairs.items()]
