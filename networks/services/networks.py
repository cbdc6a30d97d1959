"""Overlay networks: requests (validate, allocate, record, enqueue) and their runs (done by workers)."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import ValidationError
from django.db import transaction

from networks import ipam
from networks import labels as docker_labels
from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.models import Cluster, Container, Endpoint, Network, Operation, SubnetAllocation
from networks.models.network import NAME_MAX_LENGTH, validate_network_name
from plumbing.errors import ServiceError
from plumbing.transactions import retried_on_deadlock
from portal.actors import Actor

from . import queue
from .allocations import (
    subnet_choose,
    subnet_hold,
    subnet_release,
    subnet_release_in_consul,
)
from .builds import network_build, network_reserve, network_unmake
from .endpoints import check_aliases, check_still_shared, endpoint_plan, endpoint_refresh, endpoint_remove
from .grants import grant_check_room
from .operations import operation_create, operation_progress, operation_succeed
from .protection import check_not_system
from .records import operation_change_record
from .state import state_network_delete, state_network_write

logger = logging.getLogger(__name__)


def network_not_usable(ref, *, field: str | None = "networks") -> ServiceError:
    """The one refusal for a network the tenant may not use: missing, another team's, or not shared."""
    return ServiceError(
        "not_found", f'No network "{ref}" that your team can use on this cluster.', field=field, http_status=404
    )


def network_owned(*, tenant, network: Network, verb: str) -> Network:
    """Lock the network for a change only its own team may make; a network shared with the tenant says so."""
    network = Network.objects.select_for_update().get(pk=network.pk)
    if network.tenant_id != tenant.pk:
        if network.is_usable_by(tenant):
            assert network.tenant is not None, "a network another team may use is shared by the team that owns it"
            raise ServiceError(
                "shared_network",
                f'Network "{network.name}" is shared with {tenant.name} by {network.tenant.name}: your team can run '
                f"and connect containers on it, but only {network.tenant.name} can {verb} it.",
                http_status=403,
            )
        raise network_not_usable(network.pk, field=None)
    return network


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", "Give the network a name, such as mynetwork.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ServiceError(
            "name_too_long",
            f"Network names are at most {NAME_MAX_LENGTH} characters; this one has {len(name)}.",
            field="name",
        )
    try:
        validate_network_name(name)
    except ValidationError as exc:
        raise ServiceError(exc.code or "invalid_name", exc.messages[0], field="name") from exc
    return name


def _check_name_free(cluster: Cluster, name: str) -> None:
    """Under the swarm's lock: two teams asking for one name at once are told in turn, not by the constraint."""
    if Network.objects.filter(cluster=cluster, name=name).live().exists():
        raise ServiceError(
            "name_taken",
            f'A network named "{name}" already exists on cluster {cluster.name}. Pick another name.',
            field="name",
            http_status=409,
        )


def _set_status(network: Network, status: str) -> None:
    if network.status != status and not network.can_transition(status):
        raise ServiceError(
            "bad_state",
            f'Network "{network.name}" is {network.get_status_display().lower()}; it cannot become {status}.',
            http_status=409,
        )
    network.status = status
    network.save(update_fields=["status", "docker_id", "updated"])


# --- create -----------------------------------------------------------------------------------


@retried_on_deadlock
def network_create(
    *,
    actor: Actor,
    tenant,
    cluster: Cluster,
    name: str,
    subnet: str = "",
    prefixlen: int | None = None,
    gateway: str = "",
    internal: bool = False,
    encrypted: bool = False,
    labels: dict | None = None,
) -> Operation:
    """Validate, hold a subnet, record the network and its operation, and enqueue the work.

    Everything from the swarm's lock to the commit is a few index lookups and inserts: every
    create on the swarm waits for it. Made again when PostgreSQL chose it as a deadlock's victim.
    """
    name = _check_name(name)
    labels = docker_labels.labels_check(labels)
    cluster = grant_check_room(cluster=cluster, tenant=tenant, networks=1).cluster  # the swarm's lock, until commit
    _check_name_free(cluster, name)
    block = subnet_choose(cluster=cluster, subnet=(subnet or "").strip() or None, prefixlen=prefixlen, tenant=tenant)
    gateway_address = ipam.parse_gateway(gateway, block)
    network = Network.objects.create(
        tenant=tenant,
        cluster=cluster,
        name=name,
        subnet=str(block),
        gateway=str(gateway_address),
        internal=internal,
        encrypted=encrypted,
        labels=labels,
        created_by=actor.user,
    )
    subnet_hold(cluster=cluster, block=block, network=network)
    operation = operation_create(
        tenant=tenant,
        cluster=cluster,
        kind=Operation.Kind.NETWORK_CREATE,
        target=name,
        user=actor.user,
        network=network,
        params={
            "subnet": str(block),
            "gateway": str(gateway_address),
            "internal": internal,
            "encrypted": encrypted,
            # the portal may move a block it chose when the swarm turns out to hold it (services/builds.py)
            "block_chosen_by_portal": not (subnet or "").strip() and not (gateway or "").strip(),
        },
    )
    operation_change_record(actor=actor, action="network.create", operation=operation)
    return operation


def network_create_run(*, operation: Operation) -> None:
    """Make the Docker network; a retried or duplicated run finds the one it made by its labels."""
    network = operation.network_required()
    if network.status == Network.Status.ACTIVE and network.docker_id:
        operation_succeed(operation=operation, message="The network already exists.", result={"id": network.docker_id})
        return
    network_reserve(operation=operation, network=network)
    attrs = network_build(operation=operation, network=network)
    network.docker_id = attrs["Id"]
    operation_progress(operation=operation, message="Writing the network to the cluster's state store.")
    state_network_write(network=network)
    with transaction.atomic():  # active and succeeded together, once the cluster and Consul both have it
        # As it is now: staff may have given the create up meanwhile (then this refuses, and the clean-up
        # of the failure removes what was made).
        network.status = Network.objects.select_for_update().values_list("status", flat=True).get(pk=network.pk)
        _set_status(network, Network.Status.ACTIVE)
        operation_succeed(
            operation=operation,
            message=f"Network {network.name} is active: {network.docker_id}",
            result={"id": network.docker_id},
        )


def network_create_failed(*, operation: Operation) -> None:
    """A create that finally failed (or was given up) removes the Docker network it made, then gives its
    subnet back. When the cluster cannot be asked, the block stays held by the failed network until
    reconcile has seen the swarm without it (services/reconcile.py), so no one else is given a block the
    swarm may still hold."""
    network = operation.network
    if network is None or network.status not in (Network.Status.CREATING, Network.Status.FAILED):
        return
    try:
        network_unmake(network=network)
        unmade = True
    except EngineError as error:
        logger.warning("could not remove what the failed create of network %s made: %s", network.pk, error)
        unmade = False
    with transaction.atomic():
        network.status = Network.Status.FAILED
        network.save(update_fields=["status", "updated"])
        allocation = SubnetAllocation.objects.filter(network=network).first()
        if allocation is None or not unmade:
            return
        subnet_release(allocation=allocation)
    try:
        subnet_release_in_consul(cluster=network.cluster, cidr=network.subnet)
    except EngineError:
        pass  # reconcile removes a stale key later


# --- remove -----------------------------------------------------------------------------------


def _attached_sentence(names: list[str]) -> str:
    count = len(names)
    noun = "container is" if count == 1 else "containers are"
    return f"{count} {noun} still attached: {', '.join(names)} — disconnect them first, or remove with disconnect."


@transaction.atomic
def network_remove(*, actor: Actor, tenant, network: Network, disconnect: bool = False) -> Operation:
    network = network_owned(tenant=tenant, network=network, verb="remove")
    if network.is_external:
        raise ServiceError(
            "external_network",
            f'"{network.name}" was not made by the portal; remove it on the cluster itself.',
            http_status=409,
        )
    if network.status not in (Network.Status.ACTIVE, Network.Status.FAILED):
        raise ServiceError(
            "bad_state",
            f'Network "{network.name}" is {network.get_status_display().lower()}; wait for it to finish.',
            http_status=409,
        )
    names = list(network.endpoints.order_by("container__name").values_list("container__name", flat=True))
    if names and not disconnect:
        raise ServiceError("containers_attached", _attached_sentence(names), http_status=409)
    if network.status == Network.Status.ACTIVE:
        _set_status(network, Network.Status.REMOVING)
    operation = operation_create(
        tenant=tenant,
        cluster=network.cluster,
        kind=Operation.Kind.NETWORK_REMOVE,
        target=network.name,
        user=actor.user,
        network=network,
        params={"disconnect": disconnect},
    )
    operation_change_record(actor=actor, action="network.remove", operation=operation, obj=network)
    return operation


def network_remove_run(*, operation: Operation) -> None:
    network = operation.network_required()
    cluster = network.cluster
    if network.status == Network.Status.REMOVED:
        operation_succeed(operation=operation, message="The network was already removed.")
        return
    for endpoint in network.endpoints.select_related("container__node"):
        operation_progress(operation=operation, message=f"Disconnecting {endpoint.container.name}.")
        endpoint_remove(endpoint=endpoint, force=True)
    if network.docker_id:
        operation_progress(operation=operation, message=f"Removing {network.name} from the cluster.")
        _remove_and_confirm(cluster, network)
    operation_progress(operation=operation, message=f"The cluster confirms it is gone; freeing {network.subnet}.")
    with transaction.atomic():
        allocation = getattr(network, "allocation", None)
        if allocation is not None:
            subnet_release(allocation=allocation)
        network.status = Network.Status.REMOVED
        network.save(update_fields=["status", "updated"])
    state_network_delete(network=network, release_subnet=True)
    operation_succeed(operation=operation, message=f"Network {network.name} removed.")


def _remove_and_confirm(cluster: Cluster, network: Network, *, wait_seconds: float = 20) -> None:
    """Remove the Docker network and wait until the swarm no longer lists it.

    Swarm tears endpoints down asynchronously: right after a disconnect Docker may still say the
    network has active endpoints, and right after a removal the manager may still list it.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            docker_engine.remove_network(cluster.docker, network.docker_id)
        except EngineError as error:
            if error.code != "active_endpoints" or time.monotonic() > deadline:
                raise
        if not docker_engine.find_networks(cluster.docker, id=network.docker_id):
            return
        if time.monotonic() > deadline:
            raise EngineError(
                f"The cluster still has network {network.name} after removing it. Try removing it again.",
                code="still_present",
            )
        time.sleep(0.5)


def network_remove_failed(*, operation: Operation) -> None:
    network = operation.network
    if network is not None and network.status == Network.Status.REMOVING:
        network.status = Network.Status.ACTIVE
        network.save(update_fields=["status", "updated"])


# --- connect and disconnect -------------------------------------------------------------------


def _check_container_usable(container: Container, verb: str) -> None:
    check_not_system(container, verb)
    if container.status in (Container.Status.REMOVING, Container.Status.REMOVED):
        raise ServiceError("container_gone", f"{container.name} is being removed or is gone.", http_status=409)


@transaction.atomic
def network_connect(
    *, actor: Actor, tenant, network: Network, container: Container, aliases=None, ipv4_address: str = ""
) -> Operation:
    network = Network.objects.select_for_update().get(pk=network.pk)
    if not network.is_usable_by(tenant):
        raise network_not_usable(network.pk, field=None)
    _check_container_usable(container, "connected")
    if container.tenant_id != tenant.pk or container.cluster_id != network.cluster_id:
        raise ServiceError("not_found", "No such container on this network's cluster.", http_status=404)
    if network.status != Network.Status.ACTIVE:
        raise ServiceError("bad_state", f'Network "{network.name}" is not active yet.', http_status=409)
    if Endpoint.objects.filter(network=network, container=container).exists():
        raise ServiceError(
            "already_connected", f"{container.name} is already connected to {network.name}.", http_status=409
        )
    aliases = check_aliases(aliases)
    endpoint = endpoint_plan(network=network, container=container, aliases=aliases, ipv4_address=ipv4_address)
    operation = operation_create(
        tenant=tenant,
        cluster=network.cluster,
        kind=Operation.Kind.NETWORK_CONNECT,
        target=f"{container.name} to {network.name}",
        user=actor.user,
        network=network,
        container=container,
        params={"aliases": aliases, "ipv4_address": endpoint.ipv4_address or ""},
    )
    operation_change_record(actor=actor, action="network.connect", operation=operation, obj=network)
    return operation


def network_connect_run(*, operation: Operation) -> None:
    network, container = operation.network_required(), operation.container_required()
    endpoint = Endpoint.objects.get(network=network, container=container)
    check_still_shared(container=container, network=network)  # an unshare before: nothing is connected
    node = container.placed_node().docker
    attrs = docker_engine.inspect_container(node, container.docker_id)
    if attrs is None:
        raise EngineError(f"{container.name} no longer exists on the cluster.", code="container_gone")
    if network.name not in attrs["NetworkSettings"]["Networks"]:
        operation_progress(
            operation=operation, message=f"Connecting {container.name} to {network.name} at {endpoint.ipv4_address}."
        )
        docker_engine.connect_container(
            node, network.docker_id, container.docker_id, aliases=endpoint.aliases, ipv4_address=endpoint.ipv4_address
        )
        attrs = docker_engine.inspect_container(node, container.docker_id)
    with transaction.atomic():
        check_still_shared(container=container, network=network, lock=True)  # an unshare meanwhile: failed
        endpoint_refresh(endpoint=endpoint, attrs=attrs)
        operation_succeed(
            operation=operation,
            message=f"{container.name} is on {network.name} at {endpoint.ipv4_address}.",
            result={"ipv4_address": endpoint.ipv4_address, "mac_address": endpoint.mac_address},
        )


def network_connect_failed(*, operation: Operation) -> None:
    if operation.network and operation.container:
        endpoint = (
            Endpoint.objects.filter(network=operation.network, container=operation.container)
            .select_related("container__node", "network")
            .first()
        )
        if endpoint and not endpoint.endpoint_id:  # never recorded: off Docker's network too, if it got there
            endpoint_remove(endpoint=endpoint, force=True)


@transaction.atomic
def network_disconnect(
    *, actor: Actor, tenant, network: Network, container: Container, force: bool = False
) -> Operation:
    network = Network.objects.select_for_update().get(pk=network.pk)
    if not network.is_usable_by(tenant):
        raise network_not_usable(network.pk, field=None)
    check_not_system(container, "disconnected")
    if container.tenant_id != tenant.pk:
        raise ServiceError("not_found", "No such container.", http_status=404)
    operation = network_disconnect_request(
        tenant=tenant, network=network, container=container, user=actor.user, force=force
    )
    operation_change_record(actor=actor, action="network.disconnect", operation=operation, obj=network)
    return operation


def network_disconnect_request(
    *, tenant, network: Network, container: Container, user=None, force: bool = False
) -> Operation:
    """Record and enqueue taking the container off the network; the caller has checked who may."""
    if not Endpoint.objects.filter(network=network, container=container).exists():
        raise ServiceError("not_connected", f"{container.name} is not connected to {network.name}.", http_status=409)
    operation = operation_create(
        tenant=tenant,
        cluster=network.cluster,
        kind=Operation.Kind.NETWORK_DISCONNECT,
        target=f"{container.name} from {network.name}",
        user=user,
        network=network,
        container=container,
        params={"force": force},
    )
    return operation


def network_disconnect_run(*, operation: Operation) -> None:
    endpoint = (
        Endpoint.objects.filter(network=operation.network, container=operation.container)
        .select_related("container__node", "network")
        .first()
    )
    if endpoint is not None:
        operation_progress(operation=operation, message=f"Disconnecting {operation.container_required().name}.")
        endpoint_remove(endpoint=endpoint, force=operation.params.get("force", False))
    operation_succeed(
        operation=operation,
        message=f"{operation.container_required().name} is off {operation.network_required().name}.",
    )


# --- inspect ----------------------------------------------------------------------------------


def network_inspect(*, network: Network, timeout: float = 15) -> dict:
    """The live `docker network inspect` view, asked of a worker (web requests never call Docker)."""
    return queue.ask(queue.NETWORK_INSPECT, network.pk, timeout=timeout)


def network_inspect_live(*, network: Network) -> dict:
    """`docker network inspect` from the cluster, with every node's containers merged in.

    In swarm mode each engine only lists its own containers on an overlay network, so the
    Containers of every node where the network is instantiated are gathered.
    """
    cluster = network.cluster
    attrs = docker_engine.inspect_network(cluster.docker, network.docker_id)
    containers = dict(attrs.get("Containers") or {})
    for node in cluster.nodes.exclude(docker_endpoint=cluster.docker_endpoint):
        local = docker_engine.network_on_node(node.docker, network.docker_id)
        if local:
            containers.update(local.get("Containers") or {})
    ipam_config = attrs.get("IPAM") or {}
    return {
        "Name": attrs.get("Name"),
        "Id": attrs.get("Id"),
        "Created": attrs.get("Created"),
        "Scope": attrs.get("Scope"),
        "Driver": attrs.get("Driver"),
        "EnableIPv6": attrs.get("EnableIPv6", False),
        "IPAM": {
            "Driver": ipam_config.get("Driver", "default"),
            "Options": ipam_config.get("Options"),
            "Config": [
                {"Subnet": c.get("Subnet"), "Gateway": c.get("Gateway")} for c in ipam_config.get("Config") or []
            ],
        },
        "Internal": attrs.get("Internal", False),
        "Attachable": attrs.get("Attachable", False),
        "Ingress": attrs.get("Ingress", False),
        "Containers": {
            cid: {
                "Name": c.get("Name"),
                "EndpointID": c.get("EndpointID"),
                "MacAddress": c.get("MacAddress"),
                "IPv4Address": c.get("IPv4Address"),
                "IPv6Address": c.get("IPv6Address"),
            }
            for cid, c in containers.items()
            if not cid.startswith("lb-") and not cid.startswith("ingress-")
        },
        "Options": attrs.get("Options") or {},
        "Labels": attrs.get("Labels") or {},
    }
