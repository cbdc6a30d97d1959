"""Bring the database, Docker and Consul back into agreement for one cluster.

Docker is the truth about what exists; the database is the truth about who asked for what;
Consul mirrors the database. Reconcile reports every change it makes and makes none when the
three agree.
"""

from __future__ import annotations

import json

from django.db import transaction

from networks import labels as docker_labels
from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Cluster, Container, Network, Operation, SubnetAllocation

from .allocations import (
    cluster_lock,
    subnet_import_external,
    subnet_release,
    subnet_reserve_in_consul,
)
from .containers.state import container_refresh
from .containers.system import system_containers_sync
from .endpoints import endpoint_refresh
from .operations import operation_create, operation_progress, operation_succeed
from .orphans import (
    ORPHAN_GRACE_SECONDS,
    failed_holds_free,
    orphans_remove,
    portal_network_id,
    stale_holds_free,
)
from .state import network_document, network_key, state_network_delete, state_network_write, subnet_key


def cluster_reconcile_request(*, cluster: Cluster, user=None) -> Operation:
    """The cluster's own upkeep: no tenant's operation (its report names every team's networks).

    A reconcile of the cluster still waiting for a worker is the answer to every request made
    meanwhile: it will read the cluster after them all (seventy networks made on the CLI at once are
    one or two reconciles, not seventy). One already running may have read the cluster: a new one is made.
    """
    with transaction.atomic():
        cluster_lock(cluster.pk)  # two requests at once make one operation
        waiting = Operation.objects.filter(
            cluster=cluster, kind=Operation.Kind.CLUSTER_RECONCILE, status=Operation.Status.QUEUED
        ).first()
        if waiting is not None:
            return waiting
        return operation_create(
            tenant=None, cluster=cluster, kind=Operation.Kind.CLUSTER_RECONCILE, target=cluster.name, user=user
        )


def cluster_reconcile_run(*, operation: Operation) -> None:
    changes = cluster_reconcile_now(
        cluster=operation.cluster, progress=lambda m: operation_progress(operation=operation, message=m)
    )
    summary = f"{len(changes)} change(s)." if changes else "Database, Docker and Consul agree; nothing changed."
    operation_succeed(operation=operation, message=summary, result={"changes": changes})


def _overlay_networks(cluster: Cluster) -> dict[str, dict]:
    """The swarm's overlay networks, with those it accepted but could not build (they have no driver)."""
    return {
        n["Id"]: n
        for n in docker_engine.find_networks(cluster.docker)
        if n.get("Driver") == "overlay" or docker_engine.network_is_broken(n)
    }


def _mark_gone(network: Network) -> None:
    with transaction.atomic():
        for endpoint in network.endpoints.all():
            endpoint.delete()
        network.address_allocations.all().delete()
        allocation = getattr(network, "allocation", None)
        if allocation is not None:
            subnet_release(allocation=allocation)
        network.status = Network.Status.REMOVED
        network.save(update_fields=["status", "updated"])


def cluster_reconcile_now(
    *, cluster: Cluster, progress=lambda message: None, orphan_grace: float = ORPHAN_GRACE_SECONDS
) -> list[str]:
    """Reconcile in this process (a worker's operation, or a command); returns every change, in words."""
    progress("Reading the cluster's networks.")
    docker_networks = _overlay_networks(cluster)
    known = {n.docker_id: n for n in Network.objects.filter(cluster=cluster).live() if n.docker_id}
    changes = failed_holds_free(cluster, docker_networks)
    changes += stale_holds_free(cluster)
    changes += orphans_remove(cluster, docker_networks, known, grace=orphan_grace)
    changes += _reconcile_broken(cluster, docker_networks, known)
    changes += _reconcile_removed(docker_networks, known)
    changes += _reconcile_made_outside(cluster, docker_networks, known)
    progress("Comparing the cluster's state store with the portal.")
    changes += _reconcile_consul(cluster)
    progress("Refreshing container endpoints.")
    changes += _reconcile_endpoints(cluster)
    progress("Refreshing containers.")
    changes += _reconcile_containers(cluster)
    changes += _reconcile_unowned_containers(cluster)
    return changes


def _reconcile_broken(cluster: Cluster, docker_networks: dict, known: dict) -> list[str]:
    """Networks the swarm could not build (an overlapping subnet) are unusable: say so, and take ours off."""
    changes = []
    for docker_id, attrs in list(docker_networks.items()):
        if not docker_engine.network_is_broken(attrs):
            continue
        del docker_networks[docker_id]
        network = known.pop(docker_id, None)
        if network is None:
            changes.append(
                f'Network "{attrs.get("Name")}" ({docker_id[:12]}) is broken in the swarm (no driver, no address '
                "configuration: its subnet overlaps another network). Remove it with docker network rm."
            )
            continue
        docker_engine.remove_network(cluster.docker, docker_id)
        _mark_gone(network)
        state_network_delete(network=network)
        changes.append(
            f'Network "{network.name}" was broken in the swarm (no driver, no address configuration: its subnet '
            f"overlaps another network): removed, {network.subnet} freed. Its team can create it again."
        )
    return changes


def _reconcile_removed(docker_networks: dict, known: dict) -> list[str]:
    """Networks the database has but Docker does not: removed outside the portal."""
    changes = []
    for docker_id, network in known.items():
        if docker_id not in docker_networks and network.status != Network.Status.CREATING:
            _mark_gone(network)
            state_network_delete(network=network)
            changes.append(
                f'Network "{network.name}" was removed outside the portal: marked gone, {network.subnet} freed.'
            )
    return changes


def _reconcile_made_outside(cluster: Cluster, docker_networks: dict, known: dict) -> list[str]:
    """Networks Docker has but the database does not (ingress, the docker CLI): imported as no team's."""
    changes = []
    for docker_id, attrs in docker_networks.items():
        if docker_id in known:
            continue
        found_labels = attrs.get("Labels") or {}
        if portal_network_id(cluster, attrs) is not None:
            continue  # ours, still being created: its create run records it (_reconcile_orphans said which)
        configs = (attrs.get("IPAM") or {}).get("Config") or []
        subnet = next((c.get("Subnet") for c in configs if c.get("Subnet") and ":" not in c["Subnet"]), None)
        if subnet is None:
            continue
        name = attrs["Name"]
        with transaction.atomic():
            # Under the swarm's lock: a reconcile running beside this one may have just imported it.
            cluster_lock(cluster.pk)
            same_name = Network.objects.filter(cluster=cluster, name=name).live().first()
            if same_name is not None:
                if same_name.docker_id != docker_id:
                    changes.append(f'Network "{name}" on the cluster shares a name with a portal network; left alone.')
                continue
            allocation = subnet_import_external(cluster=cluster, cidr=subnet, owner=f'external network "{name}"')
            network = Network.objects.create(
                tenant=None,  # no team's: tenants see its block as held, staff see it by name
                cluster=cluster,
                name=name,
                subnet=subnet,
                gateway=next((c.get("Gateway") for c in configs if c.get("Gateway")), "") or subnet.split("/")[0],
                internal=attrs.get("Internal", False),
                labels={k: v for k, v in found_labels.items() if not docker_labels.is_portal_label(k)},
                is_external=True,
                docker_id=docker_id,
                status=Network.Status.ACTIVE,
            )
            if allocation is not None:
                allocation.network = network
                allocation.save(update_fields=["network"])
        changes.append(f'Network "{name}" was made outside the portal: imported as external, {subnet} blocked.')
    return changes


def _reconcile_endpoints(cluster: Cluster) -> list[str]:
    changes = []
    for network in Network.objects.filter(cluster=cluster, status=Network.Status.ACTIVE, is_external=False):
        for endpoint in network.endpoints.select_related("container__node", "network__cluster"):
            if endpoint.container.docker_id and endpoint.container.node:
                before = (endpoint.ipv4_address, endpoint.mac_address, endpoint.endpoint_id)
                endpoint_refresh(endpoint=endpoint)
                if before != (endpoint.ipv4_address, endpoint.mac_address, endpoint.endpoint_id):
                    changes.append(f"Endpoint of {endpoint.container.name} on {network.name} refreshed.")
    return changes


def _reconcile_containers(cluster: Cluster) -> list[str]:
    changes = []
    for container in Container.objects.filter(cluster=cluster, is_system=False).exclude(
        status__in=[Container.Status.REMOVED, Container.Status.CREATING, Container.Status.FAILED]
    ):
        change = container_refresh(container=container)
        if change:
            changes.append(change)
    system_containers_sync(cluster=cluster)
    return changes


def _reconcile_unowned_containers(cluster: Cluster) -> list[str]:
    """Containers with the portal's labels that no live row owns (a failed run, a lost row): removed."""
    changes = []
    for node in cluster.nodes.all():
        for attrs in docker_engine.list_containers(
            node.docker, label=docker_labels.selector(**{docker_labels.CLUSTER: cluster.uid})
        ):
            pk = (attrs["Config"].get("Labels") or {}).get(docker_labels.CONTAINER_ID, "")
            row = Container.objects.filter(pk=int(pk), cluster=cluster).first() if pk.isdigit() else None
            if row is not None and row.status not in (Container.Status.REMOVED, Container.Status.FAILED):
                continue
            docker_engine.remove_container(node.docker, attrs["Id"], force=True)
            name = attrs["Name"].lstrip("/")
            changes.append(
                f"Container {name} on {node.name} had no live record in the portal (a failed run left it): removed."
            )
    return changes


def _reconcile_consul(cluster: Cluster) -> list[str]:
    changes = []
    address = cluster.consul
    tree = consul_engine.kv_get_tree(address, f"{cluster.consul_prefix}/")
    active = list(
        Network.objects.filter(cluster=cluster, status=Network.Status.ACTIVE).select_related("tenant", "cluster")
    )
    wanted_network_keys = set()
    for network in active:
        key = network_key(network)
        wanted_network_keys.add(key)
        current = tree.get(key)
        if current is None or json.loads(current) != network_document(network):
            state_network_write(network=network)
            changes.append(
                f'Consul key for network "{network.name}" was {"missing" if current is None else "stale"}: rewritten.'
            )
    wanted_subnet_keys = set()
    for allocation in SubnetAllocation.objects.filter(cluster=cluster).select_related("cluster", "network__tenant"):
        key = subnet_key(cluster, allocation.cidr)
        wanted_subnet_keys.add(key)
        if key not in tree:
            subnet_reserve_in_consul(allocation=allocation)
            changes.append(f"Consul reservation for {allocation.cidr} was missing: rewritten.")
    for key in tree:
        kind = key[len(cluster.consul_prefix) + 1 :].split("/", 1)[0]
        if (kind == "networks" and key not in wanted_network_keys) or (
            kind == "subnets" and key not in wanted_subnet_keys
        ):
            consul_engine.kv_delete(address, key)
            changes.append(f"Stale Consul key {key} removed.")
    return changes
