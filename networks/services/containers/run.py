"""Running a container: the request checked and recorded under the swarm's lock (private unless ports
are published on purpose), then the worker's launch on its node, and the clean-up of a run that failed."""

from __future__ import annotations

import logging

from django.db import transaction

from networks import labels as docker_labels
from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.engine import images as images_engine
from networks.image_reference import image_reference_refusal
from networks.models import Cluster, Container, Network, Node, Operation
from networks.sealing import environment_forget, environment_open, environment_seal
from plumbing.errors import ServiceError
from plumbing.transactions import retried_on_deadlock
from portal.actors import Actor

from ..addresses import address_release
from ..endpoints import check_aliases, check_still_shared, endpoint_plan, endpoint_refresh
from ..grants import grant_check_room
from ..networks.rules import network_not_usable
from ..operations import operation_create, operation_progress, operation_succeed
from ..ports import check_not_reserved, check_ports_free
from ..records import operation_change_record
from .images import image_pull
from .lifecycle import container_remove_from_node
from .placement import node_pick_spread
from .specs import CONTAINER_NAME, RESTART_POLICIES, PublishedPort, parse_environment, parse_ports
from .state import container_record_state, container_sync_service

logger = logging.getLogger(__name__)


def _check_run_request(
    *, tenant, cluster: Cluster, name: str, image: str, ports, publish_all: bool, restart_policy: str
) -> tuple[str, str, list[PublishedPort]]:
    """The name, image and published ports of a run, each refused with its own sentence."""
    name = (name or "").strip()
    if not CONTAINER_NAME.match(name):
        raise ServiceError(
            "bad_name",
            f'"{name}" is not a valid container name: letters, digits, _ . - and at most 128 characters.',
            field="name",
        )
    if Container.objects.filter(cluster=cluster, name=name).present().exists():
        raise ServiceError(
            "name_taken", f'A container named "{name}" already exists on {cluster.name}.', field="name", http_status=409
        )
    image = (image or "").strip()
    if not image:
        raise ServiceError("image_required", "Pick an image to run.", field="image")
    refusal = image_reference_refusal(image)
    if refusal:
        raise ServiceError("bad_image", refusal, field="image")
    published = parse_ports(ports or [])
    if (published or publish_all) and not tenant.allow_published_ports:
        raise ServiceError(
            "publishing_forbidden",
            f"{tenant.name}'s policy forbids published ports: they expose containers to the Internet and ServiceNet. "
            "Run it without ports and reach it over an overlay network.",
            field="ports",
            http_status=403,
        )
    check_not_reserved(published)
    if restart_policy not in RESTART_POLICIES:
        raise ServiceError(
            "bad_restart", f"Restart policy must be one of {', '.join(RESTART_POLICIES)}.", field="restart_policy"
        )
    return name, image, published


def _plan_endpoints(*, tenant, container: Container, networks: list[dict]) -> None:
    """The networks a run joins: only ones the tenant may use (its own or shared), active, on its cluster, each
    once (a container has one endpoint per network). A refused alias or address names the network's place in
    `networks` (its `item`), so that a form shows it on that network's row."""
    listed = set()
    for index, spec in enumerate(networks):
        network = spec["network"]
        if network.cluster_id != container.cluster_id or not network.is_usable_by(tenant):
            raise network_not_usable(network.pk)
        if network.pk in listed:
            raise ServiceError(
                "network_repeated",
                f'Network "{network.name}" is listed twice. List each network once, with all its aliases.',
                field="networks",
            )
        listed.add(network.pk)
        if network.status != Network.Status.ACTIVE:
            raise ServiceError(
                "bad_state", f'Network "{network.name}" is not active.', field="networks", http_status=409
            )
        try:
            endpoint_plan(
                network=network,
                container=container,
                aliases=check_aliases(spec.get("aliases")),
                ipv4_address=spec.get("ipv4_address") or "",
            )
        except ServiceError as refusal:
            refusal.item = index if refusal.item is None else refusal.item
            raise


@retried_on_deadlock
def container_run(
    *,
    actor: Actor,
    tenant,
    cluster: Cluster,
    name: str,
    image: str,
    command: list[str] | None = None,
    networks: list[dict] | None = None,
    environment: list[dict] | None = None,
    ports: list[str] | None = None,
    publish_all: bool = False,
    restart_policy: str = "no",
    node: Node | None = None,
) -> Operation:
    """Record a container and enqueue its start. Private unless ports are published on purpose.

    Made again when PostgreSQL chose it as a deadlock's victim."""
    name, image, published = _check_run_request(
        tenant=tenant, cluster=cluster, name=name, image=image, ports=ports, publish_all=publish_all,
        restart_policy=restart_policy,
    )  # fmt: skip
    env = parse_environment(environment or [])
    # The swarm's lock, held until commit: the grant's limits cannot be passed by two runs at once.
    grant_check_room(cluster=cluster, tenant=tenant, containers=1, published_ports=len(published))
    if node is not None and node.cluster_id != cluster.pk:
        raise ServiceError("bad_node", "That node is not in this cluster.", field="node")
    if node is not None:
        check_ports_free(tenant=tenant, node=node, published=published)  # under the swarm's lock, as the room
    node = node or node_pick_spread(cluster=cluster, tenant=tenant, published=published)
    container = Container.objects.create(
        tenant=tenant,
        cluster=cluster,
        node=node,
        name=name,
        image=image,
        command=list(command or []),
        environment=environment_seal(env),  # secret values sealed: never stored in clear
        ports=[{"host": p.host, "container": p.container, "protocol": p.protocol} for p in published],
        publish_all=publish_all,
        labels={"restart_policy": restart_policy},
    )
    _plan_endpoints(tenant=tenant, container=container, networks=networks or [])
    operation = operation_create(
        tenant=tenant,
        cluster=cluster,
        kind=Operation.Kind.CONTAINER_RUN,
        target=name,
        user=actor.user,
        container=container,
        params={
            "image": image,
            "node": node.name,
            "networks": [e.network.name for e in container.endpoints.select_related("network").order_by("id")],
            "ports": [f"{p.host or ''}:{p.container}/{p.protocol}".lstrip(":") for p in published],
            "environment": [e["name"] for e in env],  # names only: values may be secret
        },
    )
    operation_change_record(actor=actor, action="container.run", operation=operation)
    return operation


def _container_labels(container: Container) -> dict[str, str]:
    assert container.tenant is not None, "a container the portal runs is a team's; system ones are not run here"
    return docker_labels.portal_labels(
        cluster_uid=container.cluster.uid,
        tenant_slug=container.tenant.slug,
        id_label=docker_labels.CONTAINER_ID,
        pk=container.pk,
    )


def container_launch_run(*, operation: Operation) -> None:
    container = operation.container_required()
    node = container.placed_node()
    endpoints = list(container.endpoints.select_related("network").order_by("id"))
    # Only a delivery after an earlier one (a retry, a worker lost mid-way) can find its container made.
    found = (
        docker_engine.list_containers(
            node.docker,
            label=docker_labels.selector(
                **{docker_labels.CLUSTER: container.cluster.uid, docker_labels.CONTAINER_ID: container.pk}
            ),
        )
        if operation.attempts > 1
        else []
    )
    check_still_shared(container=container)  # an unshare before the start: nothing is started
    if found:
        attrs = found[0]
        operation_progress(operation=operation, message="Found the container started by an earlier try; using it.")
    else:
        first = endpoints[0] if endpoints else None
        if not images_engine.has_image(node.docker, container.image):
            image_pull(operation=operation, node=node, image=container.image)
        operation_progress(
            operation=operation, message=f"Starting {container.name} ({container.image}) on {node.name}."
        )
        attrs = docker_engine.run_container(
            node.docker,
            name=container.name,
            image=container.image,
            command=container.command or None,
            network=first.network.name if first else None,
            aliases=first.aliases if first else None,
            ipv4_address=first.ipv4_address if first else None,
            labels=_container_labels(container),
            environment=environment_open(container.environment),
            ports={f"{p['container']}/{p['protocol']}": p["host"] for p in container.ports},
            publish_all=container.publish_all,
            restart_policy=container.labels.get("restart_policy", "no"),
        )
    # Docker has the secret values now; the portal keeps only their names.
    container.environment = environment_forget(container.environment)
    container_record_state(container, attrs)
    connected = False
    for endpoint in endpoints[1:]:
        if endpoint.network.name not in attrs["NetworkSettings"]["Networks"]:
            operation_progress(operation=operation, message=f"Connecting to {endpoint.network.name}.")
            docker_engine.connect_container(
                node.docker,
                endpoint.network.docker_id,
                container.docker_id,
                aliases=endpoint.aliases,
                ipv4_address=endpoint.ipv4_address,
            )
            connected = True
    if connected or found:  # the addresses on networks joined after the start; a listed (not inspected) one
        attrs = docker_engine.inspect_container(node.docker, container.docker_id) or attrs
    for endpoint in endpoints:
        endpoint_refresh(endpoint=endpoint, attrs=attrs)
    with transaction.atomic():
        check_still_shared(container=container, lock=True)  # an unshare meanwhile fails the run, by name
        operation_succeed(
            operation=operation,
            message=f"{container.name} is {container.get_status_display().lower()} on {node.name}.",
            result={"id": container.docker_id, "node": node.name},
        )


def container_launch_failed(*, operation: Operation) -> None:
    """A run that finally failed leaves nothing behind: what it made on the node (a container Docker
    created but could not start, or one started before a later step failed) is removed, its
    addresses and its Consul service given back. What cannot be removed now, reconcile removes."""
    container = operation.container
    if container is None or container.status == Container.Status.REMOVED:
        return
    try:
        container_remove_from_node(container=container)
    except EngineError as error:
        logger.warning("a failed run's container %s stays on its node for reconcile: %s", container.pk, error)
    with transaction.atomic():
        for endpoint in container.endpoints.select_related("network"):
            if endpoint.ipv4_address:
                address_release(network=endpoint.network, address=endpoint.ipv4_address)
            endpoint.delete()
        container.status = Container.Status.FAILED
        container.docker_id = ""
        container.published_ports = []
        container.environment = environment_forget(container.environment)
        container.save(update_fields=["status", "docker_id", "published_ports", "environment", "updated"])
    try:
        container_sync_service(container)
    except EngineError:
        pass  # an agent that cannot be reached has no service to drop now; reconcile looks again
