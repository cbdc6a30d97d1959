"""Containers on overlay networks: run (private by default), lifecycle, protected system containers."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q

from networks import labels as docker_labels
from networks.engine import EngineError
from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.engine import registry as registry_engine
from networks.models import Cluster, Container, Network, Node, Operation
from networks.sealing import environment_forget, environment_open, environment_seal
from plumbing.errors import ServiceError

from . import queue
from .allocations import address_release
from .endpoints import check_aliases, check_still_shared, endpoint_plan, endpoint_refresh, endpoint_remove
from .grants import grant_check_room
from .networks import network_not_usable
from .operations import (
    operation_create,
    operation_progress,
    operation_succeed,
    operation_transfer,
)
from .ports import check_not_reserved, check_ports_free, node_with_free_ports
from .protection import check_not_system
from .registries import registry_auth_for

logger = logging.getLogger(__name__)
CONTAINER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PORT_SPEC = re.compile(r"^(?:(?P<host>\d{1,5}):)?(?P<container>\d{1,5})(?:/(?P<protocol>tcp|udp))?$")
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
MASK = "••••••"


@dataclass(frozen=True)
class PublishedPort:
    host: int | None
    container: int
    protocol: str

    @property
    def key(self) -> str:
        return f"{self.container}/{self.protocol}"


def parse_ports(specs: list[str]) -> list[PublishedPort]:
    """`HOST:CONTAINER[/tcp|udp]` or `CONTAINER[/proto]` (any free host port), as `docker run --publish`."""
    ports, seen = [], set()
    for spec in specs or []:
        spec = (spec or "").strip()
        if not spec:
            continue
        match = PORT_SPEC.match(spec)
        if not match:
            raise ServiceError(
                "bad_port",
                f'"{spec}" is not a port mapping. Write HOST:CONTAINER, such as 8080:80 or 53:53/udp.',
                field="ports",
            )
        host = int(match["host"]) if match["host"] else None
        container = int(match["container"])
        for number in (host, container):
            if number is not None and not 1 <= number <= 65535:
                raise ServiceError("bad_port", f'"{spec}": ports are numbers from 1 to 65535.', field="ports")
        port = PublishedPort(host, container, match["protocol"] or "tcp")
        if port.key in seen:
            raise ServiceError("duplicate_port", f"Container port {port.key} is published twice.", field="ports")
        seen.add(port.key)
        ports.append(port)
    return ports


def parse_environment(items: list[dict]) -> list[dict]:
    env, seen = [], set()
    for item in items or []:
        name = (item.get("name") or "").strip()
        if not name:
            continue
        if not ENV_NAME.match(name):
            raise ServiceError(
                "bad_env",
                f'"{name}" is not a valid environment variable name (letters, digits, underscores).',
                field="environment",
            )
        if name in seen:
            raise ServiceError("duplicate_env", f"{name} is set twice.", field="environment")
        seen.add(name)
        env.append({"name": name, "value": str(item.get("value") or ""), "secret": bool(item.get("secret"))})
    return env


def masked_environment(container: Container) -> list[dict]:
    """The environment as anyone may see it: names, plain values, secret values masked."""
    return [
        {"name": e["name"], "value": MASK if e.get("secret") else e.get("value", ""), "secret": bool(e.get("secret"))}
        for e in container.environment
    ]


def node_pick_spread(*, cluster: Cluster, tenant=None, published: tuple | list[PublishedPort] = ()) -> Node:
    """The ready node with the fewest running containers, as Swarm's classic spread strategy chose;
    of those, the first where the run's host ports are free."""
    nodes = list(
        cluster.nodes.filter(state__in=[Node.State.READY, Node.State.UNKNOWN])
        .annotate(
            load=Count("containers", filter=Q(containers__status=Container.Status.RUNNING, containers__is_system=False))
        )
        .order_by("load", "name")
    )
    if not nodes:
        raise ServiceError(
            "no_node", f"Cluster {cluster.name} has no ready node. Try again when its nodes are up.", http_status=409
        )
    return node_with_free_ports(tenant=tenant, cluster=cluster, nodes=nodes, published=published)


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
    once (a container has one endpoint per network)."""
    listed = set()
    for spec in networks:
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
        endpoint_plan(
            network=network,
            container=container,
            aliases=check_aliases(spec.get("aliases")),
            ipv4_address=spec.get("ipv4_address") or "",
        )


@transaction.atomic
def container_run(
    *,
    tenant,
    cluster: Cluster,
    user=None,
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
    """Record a container and enqueue its start. Private unless ports are published on purpose."""
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
        user=user,
        container=container,
        params={
            "image": image,
            "node": node.name,
            "networks": [e.network.name for e in container.endpoints.select_related("network")],
            "ports": [f"{p.host or ''}:{p.container}/{p.protocol}".lstrip(":") for p in published],
            "environment": [e["name"] for e in env],  # names only: values may be secret
        },
    )
    return operation


def _container_labels(container: Container) -> dict[str, str]:
    return docker_labels.portal_labels(
        cluster_uid=container.cluster.uid,
        tenant_slug=container.tenant.slug,
        id_label=docker_labels.CONTAINER_ID,
        pk=container.pk,
    )


def published_ports_of(attrs: dict) -> list[dict]:
    """Docker's published ports, one row per host binding, IPv4 only (as `docker port` lists them)."""
    rows = []
    for port, bindings in sorted(((attrs.get("NetworkSettings") or {}).get("Ports") or {}).items()):
        for binding in bindings or []:
            if ":" in (binding.get("HostIp") or ""):
                continue
            rows.append({"port": port, "host_ip": binding.get("HostIp") or "0.0.0.0", "host_port": binding["HostPort"]})
    return rows


def _record_state(container: Container, attrs: dict) -> None:
    container.docker_id = attrs["Id"]
    container.status = Container.Status.RUNNING if attrs["State"]["Running"] else Container.Status.EXITED
    container.published_ports = published_ports_of(attrs) if attrs["State"]["Running"] else container.published_ports
    container.save(update_fields=["docker_id", "status", "environment", "published_ports", "updated"])
    _sync_service(container)


def _agent_address(container: Container) -> str:
    return f"http://{container.node.address}:8500"


def _sync_service(container: Container) -> None:
    """A running container with published ports is a Consul service on its node's agent; otherwise not."""
    if container.is_system or container.node is None:
        return
    service_id = f"overlay-portal-{container.cluster.uid}-{container.pk}"
    if container.status == Container.Status.RUNNING and container.published_ports:
        first = container.published_ports[0]
        consul_engine.service_register(
            _agent_address(container),
            service_id=service_id,
            name=container.name,
            service_address=container.node.address,
            port=int(first["host_port"]),
            tags=[f"tenant={container.tenant.slug}", *(f"port={p['port']}" for p in container.published_ports)],
        )
    else:
        consul_engine.service_deregister(_agent_address(container), service_id)


def container_port_query(*, container: Container, port: str = "") -> list[str]:
    """Answer like `docker port CONTAINER [PORT]`: NODE_ADDRESS:HOST_PORT lines, or Docker's own error."""
    address = container.node.address if container.node else "0.0.0.0"
    port = (port or "").strip()
    if not port:
        return [f"{p['port']} -> {address}:{p['host_port']}" for p in container.published_ports]
    spec = port if "/" in port else f"{port}/tcp"
    matches = [p for p in container.published_ports if p["port"] == spec]
    if not matches:
        raise ServiceError(
            "no_public_port", f"Error: No public port '{spec}' published for {container.name}", http_status=404
        )
    return [f"{address}:{p['host_port']}" for p in matches]


def container_launch_run(*, operation: Operation) -> None:
    container = operation.container
    node = container.node
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
        if not docker_engine.has_image(node.docker, container.image):
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
    _record_state(container, attrs)
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


PULL_PROGRESS_EVERY = 0.25  # seconds between two writes of a pull's progress


def image_pull(*, operation: Operation, node, image: str) -> None:
    """Pull an image the node lacks, with the team's login to its registry, the operation showing layers
    and bytes as they come (written at most every PULL_PROGRESS_EVERY seconds, and at the end)."""
    operation_progress(operation=operation, message=f"{node.name} does not have {image}: pulling it.")
    began, written = time.monotonic(), 0.0

    def tell(tally, force=False):
        nonlocal written
        if force or time.monotonic() - written >= PULL_PROGRESS_EVERY:
            written = time.monotonic()
            operation_transfer(operation=operation, transfer=tally.summary())

    tally = docker_engine.pull_image(
        node.docker, image, auth=registry_auth_for(tenant=operation.tenant, image=image), on_progress=tell
    )
    tell(tally, force=True)
    done = tally.summary()
    operation_progress(
        operation=operation,
        message=f"Pulled {image} on {node.name}: {done['layers_total']} layers, "
        f"{done['bytes_total'] / 1e6:.1f} MB in {time.monotonic() - began:.1f} s.",
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
        _sync_service(container)
    except EngineError:
        pass  # an agent that cannot be reached has no service to drop now; reconcile looks again


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


ACTIONS = {
    "stop": (Operation.Kind.CONTAINER_STOP, "stopped"),
    "start": (Operation.Kind.CONTAINER_START, "started"),
    "restart": (Operation.Kind.CONTAINER_RESTART, "restarted"),
    "remove": (Operation.Kind.CONTAINER_REMOVE, "removed"),
}


@transaction.atomic
def container_action_request(*, tenant, container: Container, action: str, user=None) -> Operation:
    kind, verb = ACTIONS[action]
    check_not_system(container, verb)
    if container.tenant_id != tenant.pk:
        raise ServiceError("not_found", "No such container.", http_status=404)
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


def container_remove_exited(*, tenant, user=None) -> list[Operation]:
    """`docker rm $(docker ps -qf status=exited)` for the tenant: never running or system containers."""
    exited = Container.objects.filter(tenant=tenant, status=Container.Status.EXITED, is_system=False)
    return [container_action_request(tenant=tenant, container=c, action="remove", user=user) for c in exited]


def container_action_run(*, operation: Operation) -> None:
    container = operation.container
    check_not_system(container, "changed")
    action = {v[0]: k for k, v in ACTIONS.items()}[operation.kind]
    endpoint = container.node.docker
    if action == "remove":
        if container.docker_id:
            docker_engine.remove_container(endpoint, container.docker_id, force=True)
        for ep in container.endpoints.select_related("network", "container__node"):
            endpoint_remove(endpoint=ep, force=True, in_docker=False)
        container.status = Container.Status.REMOVED
        container.save(update_fields=["status", "updated"])
        _sync_service(container)
        operation_succeed(operation=operation, message=f"{container.name} removed.")
        return
    attrs = docker_engine.container_action(endpoint, container.docker_id, action)
    if attrs is None:
        raise EngineError(f"{container.name} no longer exists on the cluster.", code="container_gone")
    _record_state(container, attrs)
    operation_succeed(operation=operation, message=f"{container.name} is {container.get_status_display().lower()}.")


def container_action_failed(*, operation: Operation) -> None:
    container = operation.container
    if container is not None and container.status == Container.Status.REMOVING:
        container.status = Container.Status.EXITED
        container.save(update_fields=["status", "updated"])


def system_containers_sync(*, cluster: Cluster) -> int:
    """Record the cluster's system containers (its Consul agents), labelled as system on every node."""
    count = 0
    for node in cluster.nodes.all():
        for attrs in docker_engine.list_containers(
            node.docker, label=docker_labels.selector(**{docker_labels.SYSTEM: "true"})
        ):
            name = attrs["Name"].lstrip("/")
            Container.objects.update_or_create(
                cluster=cluster,
                name=name,
                is_system=True,
                defaults={
                    "node": node,
                    "tenant": None,
                    "image": attrs["Config"]["Image"],
                    "docker_id": attrs["Id"],
                    "status": Container.Status.RUNNING if attrs["State"]["Running"] else Container.Status.EXITED,
                    "labels": attrs["Config"].get("Labels") or {},
                },
            )
            count += 1
    return count


def cluster_images_run(*, cluster: Cluster) -> dict[str, list[str]]:
    """The images each node already has (what a run can start without a pull), and those the cluster's
    registry holds (a run pulls them)."""
    images = {node.name: docker_engine.list_images(node.docker) for node in cluster.nodes.all()}
    if cluster.registry:
        try:
            images[f"registry {cluster.registry}"] = registry_engine.catalog(cluster.registry, tls=cluster.tls)
        except EngineError as error:
            logger.warning("%s: %s", cluster.name, error)  # the nodes' images are still worth offering
    return images


IMAGES_FRESH_SECONDS = 60  # how long a worker's look at the nodes' images is reused
IMAGES_RETRY_SECONDS = 15  # after a look that got no answer, how long until a worker is asked again


def cluster_images(*, cluster: Cluster, timeout: float) -> list[str]:
    """The images on every node of the cluster, asked of a worker (the run form offers them).

    Answers are reused for a minute, and a question that got no answer is not asked again for a
    while, so a page never waits on a busy or absent worker more than once in a row.
    """
    key = f"cluster-images:{cluster.pk}"
    cached = cache.get(key)
    if isinstance(cached, list):
        return cached
    if cached is not None:
        raise ServiceError("images_unknown", cached, http_status=503)
    try:
        by_node = queue.ask(queue.CLUSTER_IMAGES, cluster.pk, timeout=timeout)
    except Exception as error:  # the worker's failure, reported by Celery from another process
        sentence = queue.worker_failure_sentence(error)
        cache.set(key, sentence, IMAGES_RETRY_SECONDS)
        raise ServiceError("images_unknown", sentence, http_status=503) from error
    images = sorted({image for images in by_node.values() for image in images})
    cache.set(key, images, IMAGES_FRESH_SECONDS)
    return images


def container_refresh(*, container: Container) -> str | None:
    """Follow the cluster: copy the container's state from Docker; mark it removed when Docker lost it."""
    if not container.docker_id or container.node is None or container.status in (Container.Status.REMOVED,):
        return None
    attrs = docker_engine.inspect_container(container.node.docker, container.docker_id)
    if attrs is None:
        for endpoint in container.endpoints.select_related("network", "container__node"):
            endpoint_remove(endpoint=endpoint, force=True, in_docker=False)
        container.status = Container.Status.REMOVED
        container.save(update_fields=["status", "updated"])
        _sync_service(container)
        return f"Container {container.name} was removed outside the portal: marked gone."
    before = (container.status, container.published_ports)
    _record_state(container, attrs)
    if before != (container.status, container.published_ports):
        return f"Container {container.name} is now {container.get_status_display().lower()}."
    return None
