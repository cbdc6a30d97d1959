"""Adapter over the docker SDK: one `DockerClient` per node endpoint, errors translated."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass

import docker
import docker.errors
import requests.exceptions

from .errors import ClusterUnavailable, EngineError

PORTAL_LABEL = "overlay-portal.managed"
SYSTEM_LABEL = "overlay-portal.system"
DEFAULT_TIMEOUT = 30


@dataclass(frozen=True)
class SwarmNode:
    id: str
    hostname: str
    role: str
    state: str
    availability: str
    address: str


def translate(exc: Exception) -> EngineError:
    """Turn a docker SDK or transport exception into a sentence the user can act on."""
    if isinstance(exc, EngineError):
        return exc
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return ClusterUnavailable(raw=str(exc))
    if isinstance(exc, docker.errors.NotFound):
        return EngineError(f"Docker could not find it: {exc.explanation}", code="not_found", raw=str(exc))
    if isinstance(exc, docker.errors.APIError):
        text = str(exc.explanation or exc)
        lowered = text.lower()
        if "pool overlaps" in lowered or "overlaps with other one" in lowered:
            return EngineError(
                "Docker refused the subnet because it overlaps a network the cluster already has. "
                "Ask the portal to reconcile the cluster, then create the network again.",
                code="pool_overlaps",
                raw=text,
            )
        if "already exists" in lowered:
            return EngineError(
                "A network or container with that name already exists on the cluster. Pick another name.",
                code="name_exists",
                raw=text,
            )
        if "active endpoints" in lowered:
            return EngineError(
                "Containers are still attached to the network. Disconnect them first, or remove with disconnect.",
                code="active_endpoints",
                raw=text,
            )
        if "error getting pools config from store" in lowered or "datastore" in lowered:
            return EngineError(
                "The cluster's state store is down: rebuild the cluster, then try again.",
                code="state_store_unavailable",
                raw=text,
            )
        return EngineError(f"Docker refused the request: {text}", raw=text)
    return EngineError(f"Unexpected error talking to Docker: {exc}", raw=str(exc))


@contextlib.contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise translate(exc) from exc


@functools.lru_cache(maxsize=64)
def client(endpoint: str, timeout: int = DEFAULT_TIMEOUT) -> docker.DockerClient:
    """A cached client per endpoint; the SDK negotiates the API version with the engine."""
    with translated():
        return docker.DockerClient(base_url=endpoint, version="auto", timeout=timeout)


def ping(endpoint: str) -> bool:
    try:
        with translated():
            return bool(client(endpoint).ping())
    except EngineError:
        return False


def swarm_nodes(manager_endpoint: str) -> list[SwarmNode]:
    with translated():
        nodes = client(manager_endpoint).nodes.list()
    result = []
    for node in nodes:
        attrs = node.attrs
        result.append(
            SwarmNode(
                id=attrs["ID"],
                hostname=attrs["Description"]["Hostname"],
                role=attrs["Spec"]["Role"],
                state=attrs["Status"]["State"],
                availability=attrs["Spec"].get("Availability", ""),
                address=attrs["Status"].get("Addr", ""),
            )
        )
    return result


def create_overlay_network(
    manager_endpoint: str,
    name: str,
    *,
    subnet: str,
    gateway: str,
    labels: dict[str, str],
    internal: bool = False,
    encrypted: bool = False,
) -> dict:
    """Create an attachable overlay network and return its `docker network inspect` attributes."""
    ipam_config = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet, gateway=gateway)])
    options = {"encrypted": ""} if encrypted else None
    with translated():
        network = client(manager_endpoint).networks.create(
            name,
            driver="overlay",
            attachable=True,
            internal=internal,
            ipam=ipam_config,
            labels=labels,
            options=options,
            check_duplicate=True,
        )
        network.reload()
        return network.attrs


def find_networks(endpoint: str, *, label: str | None = None, name: str | None = None) -> list[dict]:
    filters: dict[str, str] = {}
    if label:
        filters["label"] = label
    if name:
        filters["name"] = name
    with translated():
        return [net.attrs for net in client(endpoint).networks.list(filters=filters, greedy=False)]


def inspect_network(endpoint: str, network_id: str) -> dict:
    with translated():
        return client(endpoint).networks.get(network_id).attrs


def remove_network(endpoint: str, network_id: str) -> None:
    """Remove a network; a network already gone counts as removed."""
    try:
        with translated():
            client(endpoint).networks.get(network_id).remove()
    except EngineError as error:
        if error.code != "not_found":
            raise


def run_container(
    endpoint: str,
    *,
    name: str,
    image: str,
    command: list[str] | str | None = None,
    network: str | None = None,
    aliases: list[str] | None = None,
    labels: dict[str, str] | None = None,
    environment: dict[str, str] | None = None,
    ports: dict[str, int | None] | None = None,
) -> dict:
    """Start a detached container on one node and return its inspect attributes."""
    with translated():
        docker_client = client(endpoint)
        container = docker_client.containers.run(
            image,
            command,
            name=name,
            detach=True,
            network=network,
            labels=labels or {},
            environment=environment or {},
            ports=ports or {},
        )
        if network and aliases:
            # `containers.run` cannot set aliases; reconnecting with them is the documented way.
            net = docker_client.networks.get(network)
            net.disconnect(container)
            net.connect(container, aliases=aliases)
        container.reload()
        return container.attrs


def exec_in_container(endpoint: str, container: str, command: list[str]) -> tuple[int, str]:
    with translated():
        result = client(endpoint).containers.get(container).exec_run(command, demux=False)
    output = result.output.decode("utf-8", errors="replace") if result.output else ""
    return result.exit_code, output


def remove_container(endpoint: str, container: str, *, force: bool = True) -> None:
    try:
        with translated():
            client(endpoint).containers.get(container).remove(force=force)
    except EngineError as error:
        if error.code != "not_found":
            raise


def list_containers(endpoint: str, *, all: bool = True, label: str | None = None) -> list[dict]:
    filters = {"label": label} if label else {}
    with translated():
        return [c.attrs for c in client(endpoint).containers.list(all=all, filters=filters)]
