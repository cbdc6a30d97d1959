"""Connecting containers to networks and disconnecting them: the requests, the worker's runs, and a
connect that failed."""

from __future__ import annotations

from django.db import transaction

from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.models import Container, Endpoint, Network, Operation
from plumbing.errors import ServiceError, not_found
from portal.actors import Actor

from ..endpoints import check_aliases, check_still_shared, endpoint_plan, endpoint_refresh, endpoint_remove
from ..operations import operation_create, operation_progress, operation_succeed
from ..protection import check_not_system
from ..records import operation_change_record
from .rules import network_not_usable


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
        raise not_found("container")
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
