"""Removing an overlay network: the request (refused while containers are attached, unless they are
disconnected first), the worker's run, and a removal that failed."""

from __future__ import annotations

import time

from django.db import transaction

from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.models import Cluster, Network, Operation
from plumbing.errors import ServiceError
from portal.actors import Actor

from ..allocations import (
    subnet_release,
)
from ..endpoints import endpoint_remove
from ..operations import operation_create, operation_progress, operation_succeed
from ..records import operation_change_record
from ..state import state_network_delete
from .rules import network_owned, set_status


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
        set_status(network, Network.Status.REMOVING)
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
