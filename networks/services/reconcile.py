"""Bring the database, Docker and Consul back into agreement for one cluster.

Docker is the truth about what exists; the database is the truth about who asked for what;
Consul mirrors the database. Reconcile reports every change it makes and makes none when the
three agree.
"""

from __future__ import annotations

import json
import time

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Q

from networks import labels as docker_labels
from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Cluster, Container, Endpoint, Network, Operation, SubnetAllocation

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
from .state import (
    network_document,
    network_key,
    network_key_of,
    state_network_delete,
    state_network_write,
    subnet_key,
)


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
    known = _known_networks(cluster, docker_networks)
    changes = failed_holds_free(cluster, docker_networks)
    changes += stale_holds_free(cluster)
    changes += orphans_remove(cluster, docker_networks, known, grace=orphan_grace)
    changes += _reconcile_broken(cluster, docker_networks, known)
    changes += _reconcile_removed(cluster, docker_networks)
    changes += _reconcile_made_outside(cluster, docker_networks, known)
    progress("Comparing the cluster's state store with the portal.")
    changes += _reconcile_consul(cluster)
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
        state_network_delete(network=network)
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
        Network.objects.filter(cluster=cluster)
        .live()
        .exclude(docker_id="")
        .exclude(docker_id__in=list(docker_networks))
        .exclude(status=Network.Status.CREATING)
    )
    for network in missing:
        network.cluster = cluster
        _mark_gone(network)
        state_network_delete(network=network)
        changes.append(f'Network "{network.name}" was removed outside the portal: marked gone, {network.subnet} freed.')
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


# The Consul pass is skipped while neither side has changed since a pass found them in agreement, but
# never for longer than this (a team's renamed slug, say, changes what its keys should read, not its rows).
CONSUL_FULL_PASS_SECONDS = 3600


def _consul_mark(cluster: Cluster) -> dict:
    """What the Consul pass compares, summed up in three cheap reads: Consul's index of the cluster's prefix
    (it moves on any write or delete under it), and how many rows stand behind its keys and their latest change."""
    # A network row changed or made moves the latest change (an index probe); rows are deleted only with
    # their blocks (a cascade), which the blocks' count shows.
    latest = Network.objects.filter(cluster=cluster).aggregate(latest=Max("updated"))["latest"]
    blocks = SubnetAllocation.objects.filter(cluster=cluster).aggregate(count=Count("pk"), last=Max("pk"))
    return {
        "index": consul_engine.kv_index(cluster.consul, f"{cluster.consul_prefix}/"),
        "latest": latest,
        "blocks": blocks["count"],
        "last_block": blocks["last"],
    }


def _reconcile_consul(cluster: Cluster) -> list[str]:
    """Rewrite missing and stale keys, remove keys of nothing: as cheap on ten thousand networks (twenty
    thousand keys) as on a thousand. Each pass leaves its starting point (`_consul_mark`) in the cache; the
    next one, when nothing has moved since, reads nothing more, and otherwise compares every key's presence
    but only the documents of rows changed, and of keys written, since that point. At least once every
    CONSUL_FULL_PASS_SECONDS it compares every document (a team's renamed slug changes what its keys
    should read without changing their rows)."""
    mark, key, now = _consul_mark(cluster), f"reconcile:consul:{cluster.pk}", time.time()
    last = cache.get(key)
    if last is not None and last["mark"] == mark:
        return []
    since = last["mark"] if last is not None and now - last["full_at"] < CONSUL_FULL_PASS_SECONDS else None
    changes = _consul_compare(cluster, since)
    cache.set(key, {"mark": mark, "full_at": now if since is None else last["full_at"]}, timeout=None)
    return changes


def _consul_compare(cluster: Cluster, since: dict | None) -> list[str]:
    changes = []
    address = cluster.consul
    tree = consul_engine.kv_get_tree_changes(address, f"{cluster.consul_prefix}/")
    active = Network.objects.filter(cluster=cluster, status=Network.Status.ACTIVE)
    wanted_network_keys = {network_key_of(cluster, pk): pk for pk in active.values_list("pk", flat=True)}
    compared = active
    if since is not None:
        written = {pk for key, pk in wanted_network_keys.items() if key in tree and tree[key][1] > since["index"]}
        absent = {pk for key, pk in wanted_network_keys.items() if key not in tree}
        changed = Q(updated__gte=since["latest"]) if since["latest"] is not None else Q()
        compared = active.filter(Q(pk__in=written | absent) | changed)
    for network in compared.select_related("tenant"):
        network.cluster = cluster  # one row for all: its Consul address and prefix
        current, document = tree.get(network_key(network), (None, 0))[0], network_document(network)
        # The key is written as sorted JSON: the same text is the same document, without parsing it.
        if current is None or (current != json.dumps(document, sort_keys=True) and json.loads(current) != document):
            state_network_write(network=network)
            changes.append(
                f'Consul key for network "{network.name}" was {"missing" if current is None else "stale"}: rewritten.'
            )
    blocks = SubnetAllocation.objects.filter(cluster=cluster)
    cidrs = {subnet_key(cluster, cidr): cidr for cidr in blocks.values_list("cidr", flat=True)}
    missing = [cidr for key, cidr in cidrs.items() if key not in tree]
    for allocation in blocks.filter(cidr__in=missing).select_related("cluster", "network__tenant") if missing else []:
        subnet_reserve_in_consul(allocation=allocation)
        changes.append(f"Consul reservation for {allocation.cidr} was missing: rewritten.")
    for key in tree:
        kind = key[len(cluster.consul_prefix) + 1 :].split("/", 1)[0]
        if (kind == "networks" and key not in wanted_network_keys) or (kind == "subnets" and key not in cidrs):
            consul_engine.kv_delete(address, key)
            changes.append(f"Stale Consul key {key} removed.")
    return changes
