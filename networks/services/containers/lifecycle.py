"""A container's lifecycle after its run: stop, start, restart and remove (one, or every exited one),
asked by a team and done by a worker, system containers refused; and clearing a row's containers off its node."""

from __future__ import annotations

from django.db import transaction

from networks import labels as docker_labels
from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.models import Container, Operation
from plumbing.errors import ServiceError, not_found
from portal.actors import Actor

from ..endpoints import endpoint_remove
from ..operations import operation_create, operation_succeed
from ..protection import check_not_system
from ..records import operation_change_record, operations_change_record
from .state import container_record_state, container_sync_service


def container_remove_from_node(*, container: Container) -> list[str]:
    """Remove every Docker container the portal made for this row on its node (found by its labels)."""
    if container.node is None:
        return []
    endpoint = container.node.docker
    found = docker_engine.list_containers(
        endpoint,
        label=docker_labels.selector(
            **{docker_labels.CLUSTER: container.cluster.uid, docker_labels.CONTAINER_ID: container.pk}
        ),
    )
    for attrs in found:
        docker_engine.remove_container(endpoint, attrs["Id"], force=True)
    return [attrs["Id"] for attrs in found]


ACTIONS: dict[str, tuple[str, str]] = {
    "stop": (Operation.Kind.CONTAINER_STOP, "stopped"),
    "start": (Operation.Kind.CONTAINER_START, "started"),
    "restart": (Operation.Kind.CONTAINER_RESTART, "restarted"),
    "remove": (Operation.Kind.CONTAINER_REMOVE, "removed"),
}


@transaction.atomic
def container_action_request(*, actor: Actor, tenant, container: Container, action: str) -> Operation:
    """Stop, start, restart or remove one of the team's containers: a worker does it."""
    operation = _container_action_queue(tenant=tenant, container=container, action=action, user=actor.user)
    operation_change_record(actor=actor, action=f"container.{action}", operation=operation)
    return operation


def _container_action_queue(*, tenant, container: Container, action: str, user) -> Operation:
    kind, verb = ACTIONS[action]
    check_not_system(container, verb)
    if container.tenant_id != tenant.pk:
        raise not_found("container")
    if container.status in (Container.Status.REMOVING, Container.Status.REMOVED, Container.Status.CREATING):
        raise ServiceError(
            "bad_state",
            f"{container.name} is {container.get_status_display().lower()}; it cannot be {verb} now.",
            http_status=409,
        )
    if action == "remove":
        container.status = Container.Status.REMOVING
        container.save(update_fields=["status", "updated"])
    operation = operation_create(
        tenant=tenant, cluster=container.cluster, kind=kind, target=container.name, user=user, container=container
    )
    return operation


@transaction.atomic
def container_remove_exited(*, actor: Actor, tenant) -> list[Operation]:
    """`docker rm $(docker ps -qf status=exited)` for the tenant: never running or system containers."""
    exited = Container.objects.filter(tenant=tenant, status=Container.Status.EXITED, is_system=False)
    operations = [_container_action_queue(tenant=tenant, container=c, action="remove", user=actor.user) for c in exited]
    operations_change_record(actor=actor, action="container.remove_exited", tenant=tenant, operations=operations)
    return operations


def container_action_run(*, operation: Operation) -> None:
    container = operation.container_required()
    check_not_system(container, "changed")
    action = {v[0]: k for k, v in ACTIONS.items()}[operation.kind]
    endpoint = container.placed_node().docker
    if action == "remove":
        if container.docker_id:
            docker_engine.remove_container(endpoint, container.docker_id, force=True)
        for ep in container.endpoints.select_related("network", "container__node"):
            endpoint_remove(endpoint=ep, force=True, in_docker=False)
        container.status = Container.Status.REMOVED
        container.save(update_fields=["status", "updated"])
        container_sync_service(container)
        operation_succeed(operation=operation, message=f"{container.name} removed.")
        return
    attrs = docker_engine.container_action(endpoint, container.docker_id, action)
    if attrs is None:
        raise EngineError(f"{container.name} no longer exists on the cluster.", code="container_gone")
    container_record_state(container, attrs)
    operation_succeed(operation=operation, message=f"{container.name} is {container.get_status_display().lower()}.")


def container_action_failed(*, operation: Operation) -> None:
    container = operation.container
    if container is not None and container.status == Container.Status.REMOVING:
        container.status = Container.Status.EXITED
        container.save(update_fields=["status", "updated"])
