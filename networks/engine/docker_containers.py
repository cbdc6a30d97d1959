"""A container's calls on its node over the docker SDK: run, stop/start/restart, exec, remove, list, connect to
and disconnect from a network, inspect; errors translated, a container already gone taken as such."""

from __future__ import annotations

from .docker_client import client
from .endpoints import DockerEndpoint
from .errors import EngineError
from .refusals import translated


def run_container(
    endpoint: DockerEndpoint | str,
    *,
    name: str,
    image: str,
    command: list[str] | str | None = None,
    network: str | None = None,
    aliases: list[str] | None = None,
    ipv4_address: str | None = None,
    labels: dict[str, str] | None = None,
    environment: dict[str, str] | None = None,
    ports: dict[str, int | None] | None = None,
    publish_all: bool = False,
    restart_policy: str = "no",
) -> dict:
    """Start a detached container on one node, attached to `network` with its address and aliases."""
    with translated():
        docker_client = client(endpoint)
        networking_config = None
        if network and (aliases or ipv4_address):
            networking_config = {
                network: docker_client.api.create_endpoint_config(
                    aliases=aliases or None, ipv4_address=ipv4_address or None
                )
            }
        container = docker_client.containers.run(
            image,
            command or None,
            name=name,
            detach=True,
            network=network,
            networking_config=networking_config,
            labels=labels or {},
            environment=environment or {},
            ports=ports or {},
            publish_all_ports=publish_all,
            restart_policy={"Name": restart_policy} if restart_policy and restart_policy != "no" else None,
        )
        container.reload()
        return container.attrs


def container_action(endpoint: DockerEndpoint | str, container: str, action: str, *, timeout: int = 10) -> dict | None:
    """stop, start or restart a container; returns its inspect attributes, or None when it is gone."""
    try:
        with translated():
            obj = client(endpoint).containers.get(container)
            if action == "start":
                obj.start()
            else:
                getattr(obj, action)(timeout=timeout)
            obj.reload()
            return obj.attrs
    except EngineError as error:
        if error.code == "not_found":
            return None
        raise


def exec_in_container(endpoint: DockerEndpoint | str, container: str, command: list[str]) -> tuple[int, str]:
    with translated():
        result = client(endpoint).containers.get(container).exec_run(command, demux=False)
    output = result.output.decode("utf-8", errors="replace") if result.output else ""
    return result.exit_code, output


def remove_container(endpoint: DockerEndpoint | str, container: str, *, force: bool = True) -> None:
    try:
        with translated():
            client(endpoint).containers.get(container).remove(force=force)
    except EngineError as error:
        if error.code != "not_found":
            raise


def list_containers(endpoint: DockerEndpoint | str, *, all: bool = True, label: list[str] | None = None) -> list[dict]:
    """Containers of one node with their full inspect attributes, filtered by every `key=value` label."""
    filters = {"label": label} if label else {}
    with translated():
        return [c.attrs for c in client(endpoint).containers.list(all=all, filters=filters, sparse=False)]


def connect_container(
    endpoint: DockerEndpoint | str,
    network_id: str,
    container: str,
    *,
    aliases: list[str] | None = None,
    ipv4_address: str | None = None,
) -> None:
    """Attach a container, on the node it runs on, to a network (the low-level call works on swarm workers)."""
    with translated():
        client(endpoint).api.connect_container_to_network(
            container, network_id, aliases=aliases or None, ipv4_address=ipv4_address or None
        )


def disconnect_container(
    endpoint: DockerEndpoint | str, network_id: str, container: str, *, force: bool = False
) -> None:
    try:
        with translated():
            client(endpoint).api.disconnect_container_from_network(container, network_id, force=force)
    except EngineError as error:
        if error.code != "not_found" and "is not connected" not in error.raw:
            raise


def inspect_container(endpoint: DockerEndpoint | str, container: str) -> dict | None:
    try:
        with translated():
            return client(endpoint).api.inspect_container(container)
    except EngineError as error:
        if error.code == "not_found":
            return None
        raise
