"""Bring the database, Docker and Consul back into agreement for one cluster.

Docker is the truth about what exists; the database is the truth about who asked for what;
Consul mirrors the database. Reconcile reports every change it makes and makes none when the
three agree.
"""

from __future__ import annotations

from django.db import transaction

from networks import labels as docker_labels
from networks.engine import docker as docker_engine
from networks.models import Cluster, Container, Endpoint, Network, Operation, SubnetAllocation

from .allocations import (
    SubnetConflict,
    cluster_lock,
    subnet_import_external,
    subnet_release,
    subnet_reserve_in_consul,
    subnets_reserve_in_consul,
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
from .reconcile_consul import reconcile_consul
from .state import state_network_delete, state_networks_write

# A reconcile's scope (its operation's params): everything, or the swarm's networks only (the events
# follower's, after networks made or removed outside the portal).
EVERYTHING, NETWORKS = "everything", "networks"


def cluster_reconcile_request(*, cluster: Cluster, user=None, scope: str = EVERYTHING) -> Operation:
    """The cluster's own upkeep: no tenant's operation (its report names every team's networks).

    A reconcile of the cluster still waiting for a worker is the answer to every request made
    meanwhile that it covers: it will read the cluster after them all (seventy networks made on the CLI
    at once are one or two reconciles, not seventy). One already running may have read the cluster: a
    new one is made. `scope` NETWORKS: the swarm's networks only (`cluster_reconcile_now`), which a
    waiting reconcile of either scope answers; one of everything is answered only by another.
    """
    with transaction.atomic():
        cluster_lock(cluster.pk)  # two requests at once make one operation
        waiting = Operation.objects.filter(
            cluster=cluster, kind=Operation.Kind.CLUSTER_RECONCILE, status=Operation.Status.QUEUED
        )
        if scope == EVERYTHING:
            waiting = waiting.exclude(params__scope=NETWORKS)
        if (found := waiting.first()) is not None:
            return found
        return operation_create(
            tenant=None,
            cluster=cluster,
            kind=Operation.Kind.CLUSTER_RECONCILE,
            target=cluster.name if scope == EVERYTHING else f"{cluster.name} (its networks only)",
            params={"scope": scope},
            user=user,
        )


def cluster_reconcile_run(*, operation: Operation) -> None:
    scope = operation.params.get("scope", EVERYTHING)
    changes = cluster_reconcile_now(
        cluster=operation.cluster,
        progress=lambda m: operation_progress(operation=operation, message=m),
        networks_only=scope == NETWORKS,
    )
    if changes:
        summary = f"{len(changes)} change(s)."
    elif scope == NETWORKS:
        summary = "The swarm's networks and the portal's agree; nothing changed."
    else:
        summary = "Database, Docker and Consul agree; nothing changed."
    operation_succeed(operation=operation, message=summary, result={"changes": changes})


def _overlay_networks(cluster: Cluster) -> dict[str, dict]:
    """The swarm's overlay networks, with those it accepted but could not build (they have no driver)."""
    return {
        n["Id"]: n
        for n in docker_engine.find_networks(cluster.docker)
        if n.get("Driver") == "overlay" or docker_engine.network_is_broken(n)
    }


def _mark_gone(network: Network) -> None:
    """The network removed in the database, its block freed; then its keys in Consul, its block's
    reservation with them when it held the block (the Consul pass would find them stale)."""
    with transaction.atomic():
        for endpoint in network.endpoints.all():
            endpoint.delete()
        network.address_allocations.all().delete()
        allocation = getattr(network, "allocation", None)
        if allocation is not None:
            subnet_release(allocation=allocation)
        network.status = Network.Status.REMOVED
        network.save(update_fields=["status", "updated"])
    state_network_delete(network=network, release_subnet=allocation is not None)


def cluster_reconcile_now(
    *,
    cluster: Cluster,
    progress=lambda message: None,
    orphan_grace: float = ORPHAN_GRACE_SECONDS,
    networks_only: bool = False,
) -> list[str]:
    """Reconcile in this process (a worker's operation, or a command); returns every change, in words.

    `networks_only`: the swarm's networks against the database (what the events follower asks for after
    networks made or removed on the CLI), each change's Consul keys written with it. The Consul pass,
    which reads every key when anything moved (a swarm of ten thousand networks: twenty thousand keys),
    the endpoints and the containers are left to the periodic reconcile."""
    progress("Reading the cluster's networks.")
    docker_networks = _overlay_networks(cluster)
    known = _known_networks(cluster, docker_networks)
    changes = failed_holds_free(cluster, docker_networks)
    changes += stale_holds_free(cluster)
    changes += orphans_remove(cluster, docker_networks, known, grace=orphan_grace)
    changes += _reconcile_broken(cluster, docker_networks, known)
    changes += _reconcile_removed(cluster, docker_networks)
    made_outside, imported = _reconcile_made_outside(cluster, docker_networks, known)
    _imported_keys_write(cluster, imported)
    changes += made_outside
    if networks_only:
        return changes
    progress("Comparing the cluster's state store with the portal.")
    changes += reconcile_consul(cluster)
    progress("Refreshing container endpoints.")
    changes += _reconcile_endpoints(cluster)
    progress("Refreshing containers.")
    changes += _reconcile_containers(cluster)
    changes += _reconcile_unowned_containers(cluster)
    return changes


def _known_networks(cluster: Cluster, docker_networks: dict) -> dict[str, Network]:
    """The cluster's live networks that Docker has, by Docker id: the database finds them by the ids Docker
    listed, so a swarm of ten thousand rows costs what Docker holds, not what the database does."""
    rows = Network.objects.filter(cluster=cluster, docker_id__in=list(docker_networks)).live()
    known = {n.docker_id: n for n in rows}
    for network in known.values():
        network.cluster = cluster  # one row for all (Consul's address, when one is marked gone)
    return known


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
        changes.append(
            f'Network "{network.name}" was broken in the swarm (no driver, no address configuration: its subnet '
            f"overlaps another network): removed, {network.subnet} freed. Its team can create it again."
        )
    return changes


def _reconcile_removed(cluster: Cluster, docker_networks: dict) -> list[str]:
    """Networks the database has but Docker does not: removed outside the portal (found by the database
    among the rows with a Docker id that Docker did not list; one still creating is left to its run)."""
    changes = []
    missing = (
        Network.objects.filter(cluster=cluster, docker_id__gt="")  # the (cluster, docker_id) index's range
        .live()
        .exclude(docker_id__in=list(docker_networks))
        .exclude(status=Network.Status.CREATING)
    )
    for network in missing:
        network.cluster = cluster
        _mark_gone(network)
        changes.append(f'Network "{network.name}" was removed outside the portal: marked gone, {network.subnet} freed.')
    return changes


def _reconcile_made_outside(
    cluster: Cluster, docker_networks: dict, known: dict
) -> tuple[list[str], list[tuple[Network, SubnetAllocation | None]]]:
    """Networks Docker has but the database does not (ingress, the docker CLI): imported as no team's.
    Returns the changes and what was imported, each network with the block it was given (or None when
    it overlaps one held already), for `_imported_keys_write`."""
    changes: list[str] = []
    imported: list[tuple[Network, SubnetAllocation | None]] = []
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
        imported.append((network, allocation))
        changes.append(f'Network "{name}" was made outside the portal: imported as external, {subnet} blocked.')
    return changes, imported


def _imported_keys_write(cluster: Cluster, imported: list[tuple[Network, SubnetAllocation | None]]) -> None:
    """The Consul keys of the networks just imported, as a create writes its own: their documents, and their
    blocks' reservations, in transactions. A reservation is only created where no key is: one another
    writer made (another portal on the swarm) stays theirs, and the Consul pass, which wants a key there,
    finds one."""
    if not imported:
        return
    state_networks_write(cluster=cluster, networks=[network for network, _ in imported])
    allocations = [allocation for _, allocation in imported if allocation is not None]
    if not allocations or subnets_reserve_in_consul(cluster=cluster, allocations=allocations):
        return
    for allocation in allocations:
        try:
            subnet_reserve_in_consul(allocation=allocation)
        except SubnetConflict:
            pass


def _reconcile_endpoints(cluster: Cluster) -> list[str]:
    """Every endpoint of the cluster's active portal networks, read in one query (not one per network: most
    networks of a big swarm have no container on them)."""
    changes = []
    endpoints = (
        Endpoint.objects.filter(
            network__cluster=cluster,
            network__status=Network.Status.ACTIVE,
            network__is_external=False,
            container__node__isnull=False,
        )
        .exclude(container__docker_id="")
        .select_related("container__node", "network__cluster")
        .order_by("network__name", "network_id", "pk")
    )
    for endpoint in endpoints:
        before = (endpoint.ipv4_address, endpoint.mac_address, endpoint.endpoint_id)
        endpoint_refresh(endpoint=endpoint)
        if before != (endpoint.ipv4_address, endpoint.mac_address, endpoint.endpoint_id):
            changes.append(f"Endpoint of {endpoint.container.name} on {endpoint.network.name} refreshed.")
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
