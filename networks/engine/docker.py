"""Adapter over the docker SDK: one `DockerClient` per node endpoint (over mutual TLS), errors translated
(the client itself: docker_client.py; a container's calls: docker_containers.py). A network's create and
inspect, made for every network create, go plainly (docker_plain.py)."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors

from . import docker_plain
from .docker_client import DEFAULT_TIMEOUT, MIN_API_VERSION, client, pem_files  # noqa: F401

# A container's calls come with the adapter (written in docker_containers.py).
from .docker_containers import (  # noqa: F401
    connect_container,
    container_action,
    disconnect_container,
    exec_in_container,
    inspect_container,
    list_containers,
    remove_container,
    run_container,
)
from .endpoints import DockerEndpoint, docker_endpoint_of
from .errors import EngineError
from .inspect import MTU_OPTION
from .refusals import translated


def network_is_broken(attrs: dict) -> bool:
    """A swarm network the manager accepted but could not build (no driver, no address configuration).

    Swarm accepts an overlay whose subnet overlaps another one and leaves it like this (swarmkit #2398).
    """
    return attrs.get("Scope") == "swarm" and (not attrs.get("Driver") or not (attrs.get("IPAM") or {}).get("Config"))


def create_overlay_network(manager_endpoint: DockerEndpoint | str, name: str, **options: Any) -> dict:
    """Create an overlay network (`overlay_network_create`'s options) and return its `docker network inspect`
    attributes."""
    return network_allocated(manager_endpoint, overlay_network_create(manager_endpoint, name, **options))


def overlay_network_create(
    manager_endpoint: DockerEndpoint | str,
    name: str,
    *,
    subnet: str,
    gateway: str,
    labels: dict[str, str],
    internal: bool = False,
    encrypted: bool = False,
    ip_range: str = "",
    aux_addresses: dict[str, str] | None = None,
    mtu: int | None = None,
    attachable: bool = True,
) -> str:
    """The create call alone: the new network's id, its attributes left for `network_allocated` (or, for
    several, `networks_allocated`) to read once the swarm has built it."""
    pool = docker.types.IPAMPool(
        subnet=subnet, gateway=gateway, iprange=ip_range or None, aux_addresses=aux_addresses or None
    )
    ipam_config = docker.types.IPAMConfig(pool_configs=[pool])
    options = {}
    if encrypted:
        options["encrypted"] = ""
    if mtu is not None:
        options[MTU_OPTION] = str(mtu)
    endpoint = docker_endpoint_of(manager_endpoint)
    with translated():
        api = client(endpoint).api
        target = docker_plain.target_of(endpoint)
        if target is None:
            # The low-level call: the SDK's networks.create would inspect it once more than network_allocated does.
            created = api.create_network(
                name,
                driver="overlay",
                attachable=attachable,
                internal=internal,
                ipam=ipam_config,
                labels=labels,
                options=options or None,
                check_duplicate=True,
            )
        else:
            body = network_create_body(
                name, ipam=ipam_config, labels=labels, options=options, internal=internal, attachable=attachable
            )
            created = docker_plain.call(
                target, "POST", f"/v{api.api_version}/networks/create", body=body, **_plainly(endpoint, api)
            )
    return created["Id"]


def network_create_body(
    name: str, *, ipam: dict, labels: dict[str, str], options: dict[str, str], internal: bool, attachable: bool
) -> dict:
    """The JSON body the SDK's `create_network` sends for an overlay network with these settings (its keys in
    its order, those it leaves out left out: tests/networks/engine/test_docker_plain.py compares them)."""
    body: dict = {"Name": name, "Driver": "overlay"}
    if options:
        body["Options"] = options
    body.update(IPAM=ipam, CheckDuplicate=True, Labels=labels)
    if internal:
        body["Internal"] = True
    body["Attachable"] = attachable
    return body


def _plainly(endpoint: DockerEndpoint, api: docker.APIClient) -> dict:
    """docker_plain.call's settings for the endpoint: its client's timeout, the bundle's certificate and key."""
    pem = pem_files(endpoint.tls)[1:] if endpoint.tls is not None else None
    return {"timeout": api.timeout, "pem": pem}


ALLOCATION_WAIT = 5.0  # seconds a new swarm network may stay unallocated before it is taken as broken
ALLOCATION_FIRST_PAUSE = 0.005  # then doubled at each look, up to ALLOCATION_LONGEST_PAUSE
ALLOCATION_LONGEST_PAUSE = 0.2


def network_allocated(
    manager_endpoint: DockerEndpoint | str, network_id: str, *, wait: float = ALLOCATION_WAIT
) -> dict:
    """The network's attributes once the swarm's allocator has given it a driver and an address
    configuration, or as they are after `wait` seconds (then network_is_broken says so).

    Swarm allocates asynchronously: right after the create call a network can read as if broken for
    tens of milliseconds alone, for hundreds with dozens of creates at once (measured on the local
    cluster). One that overlaps another network stays so.
    """
    deadline, pause = time.monotonic() + wait, ALLOCATION_FIRST_PAUSE
    endpoint = docker_endpoint_of(manager_endpoint)
    with translated():
        api = client(endpoint).api
        target = docker_plain.target_of(endpoint)
        while True:
            if target is None:
                attrs = api.inspect_network(network_id)
            else:
                path = f"/v{api.api_version}/networks/{urllib.parse.quote(network_id, safe='/:')}"
                attrs = docker_plain.call(target, "GET", path, **_plainly(endpoint, api))
            if not network_is_broken(attrs) or time.monotonic() >= deadline:
                return attrs
            time.sleep(pause)
            pause = min(pause * 2, ALLOCATION_LONGEST_PAUSE)


def networks_allocated(
    manager_endpoint: DockerEndpoint | str, network_ids: list[str], *, wait: float = ALLOCATION_WAIT
) -> dict[str, dict]:
    """network_allocated for several networks, by their ids: at each look one `docker network ls` filtered
    by the ids of those not yet allocated. A manager lists a swarm network with the same attributes as its
    inspect (driver, address configuration, options, labels). A network the list does not hold (removed
    meanwhile) is left out: the caller inspects it alone, which says what became of it."""
    deadline, pause = time.monotonic() + wait, ALLOCATION_FIRST_PAUSE
    found: dict[str, dict] = {}
    waiting = list(dict.fromkeys(network_ids))
    with translated():
        while waiting:
            # Docker matches an id filter as a prefix too: only the networks asked for are kept.
            listed = {attrs["Id"]: attrs for attrs in client(manager_endpoint).api.networks(filters={"id": waiting})}
            found.update((pk, listed[pk]) for pk in waiting if pk in listed)
            waiting = [pk for pk in waiting if pk in listed and network_is_broken(listed[pk])]
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(pause)
            pause = min(pause * 2, ALLOCATION_LONGEST_PAUSE)
    return found


def find_networks(
    endpoint: DockerEndpoint | str, *, labels: list[str] | None = None, name: str | None = None, id: str | None = None
) -> list[dict]:
    """Networks matching every label (`key=value`), or a name, or an id, as `docker network ls` filters."""
    filters: dict[str, str | list[str]] = {}
    if labels:
        filters["label"] = labels
    if id:
        filters["id"] = id
    if name:
        filters["name"] = name
    with translated():
        return [net.attrs for net in client(endpoint).networks.list(filters=filters, greedy=False)]


def inspect_network(endpoint: DockerEndpoint | str, network_id: str) -> dict:
    with translated():
        return client(endpoint).networks.get(network_id).attrs


def remove_network(endpoint: DockerEndpoint | str, network_id: str) -> None:
    """Remove a network; a network already gone counts as removed."""
    try:
        with translated():
            client(endpoint).networks.get(network_id).remove()
    except EngineError as error:
        if error.code != "not_found":
            raise


# A read on the event stream waits at most this long; a window of events is shorter than it.
EVENTS_READ_TIMEOUT = 90


def events(endpoint: DockerEndpoint | str, *, since: int, until: int) -> Iterator[dict]:
    """`docker events` for containers, networks and swarm nodes between two Unix times.

    The stream ends by itself at `until` (it may lie in the future: the engine holds the stream
    open until then), so a follower reads in windows and notices a dead node within one.
    """
    with translated():
        stream = client(endpoint, timeout=EVENTS_READ_TIMEOUT).api.events(
            since=since, until=until, filters={"type": ["container", "network", "node"]}, decode=True
        )
        try:
            yield from stream
        finally:
            stream.close()


def network_on_node(endpoint: DockerEndpoint | str, network_id: str) -> dict | None:
    """The network as one node sees it (its local containers), or None where it is not instantiated."""
    try:
        with translated():
            return client(endpoint).api.inspect_network(network_id)
    except EngineError as error:
        if error.code == "not_found":
            return None
        raise
