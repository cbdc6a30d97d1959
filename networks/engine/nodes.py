"""A swarm's nodes as their engines tell: whether one answers, its engine's facts, the swarm's node list,
and what a probe on a node's own network finds: the ports its programs listen on, its underlay's MTU."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .docker import client
from .endpoints import DockerEndpoint
from .errors import EngineError
from .refusals import translated


@dataclass(frozen=True)
class SwarmNode:
    id: str
    hostname: str
    role: str
    state: str
    availability: str
    address: str


def ping(endpoint: DockerEndpoint | str) -> bool:
    try:
        with translated():
            return bool(client(endpoint).ping())
    except EngineError:
        return False


def parse_listening(netstat: str) -> list[tuple[int, str]]:
    """(port, protocol) pairs from `netstat -lntu` output (busybox or net-tools), IPv4 and IPv6 alike."""
    found = set()
    for line in netstat.splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[0].rstrip("6") not in ("tcp", "udp"):
            continue
        port = parts[3].rpartition(":")[2]
        if port.isdigit():
            found.add((int(port), parts[0].rstrip("6")))
    return sorted(found)


@dataclass(frozen=True)
class NodeProbe:
    listening: list[tuple[int, str]]
    underlay_mtu: int | None  # of the interface holding the node's address; None when not found


_SEPARATOR = "@@overlay-portal@@"
_ADDRESS_LINE = re.compile(r"^\d+:\s+(?P<interface>[^\s:@]+)\s+inet\s+(?P<address>[\d.]+)/")
_LINK_LINE = re.compile(r"^\d+:\s+(?P<interface>[^\s:@]+)[@:].*\smtu\s+(?P<mtu>\d+)")


def parse_underlay_mtu(addresses: str, links: str, *, address: str) -> int | None:
    """The MTU of the interface that holds `address`, from `ip -o -4 addr` and `ip -o link` output."""
    interface = next(
        (m["interface"] for m in map(_ADDRESS_LINE.match, addresses.splitlines()) if m and m["address"] == address),
        None,
    )
    for match in map(_LINK_LINE.match, links.splitlines()):
        if match and match["interface"] == interface:
            return int(match["mtu"])
    return None


def node_probe(endpoint: DockerEndpoint | str, *, image: str, labels: dict[str, str], address: str) -> NodeProbe:
    """`netstat -lntu` and `ip` in one throw-away container on the node's own network (`--network host`),
    from an image the node has: the ports the node's programs listen on, and the MTU of its underlay."""
    script = f"netstat -lntu; echo {_SEPARATOR}; ip -o -4 addr show || true; echo {_SEPARATOR}; ip -o link show || true"
    with translated():
        output = client(endpoint).containers.run(
            image, ["sh", "-c", script], network_mode="host", remove=True, labels=labels
        )
    netstat, _, rest = output.decode(errors="replace").partition(_SEPARATOR)
    addresses, _, links = rest.partition(_SEPARATOR)
    return NodeProbe(parse_listening(netstat), parse_underlay_mtu(addresses, links, address=address))


@dataclass(frozen=True)
class EngineFacts:
    """What an engine says of itself when first met: its API version and its place in a swarm."""

    api_version: str
    swarm_state: str  # "active" in a swarm; "inactive", "pending", "error", "locked" otherwise
    is_manager: bool
    swarm_id: str
    node_id: str
    consul_containers: tuple[str, ...]  # names of containers on it that look like a Consul agent


def engine_facts(endpoint: DockerEndpoint | str) -> EngineFacts:
    """Meet an engine: /version, /info and its Consul containers (label overlay-portal.role=consul, or a
    consul image), each failure translated (TLS, refused connection, ...)."""
    with translated():
        docker_client = client(endpoint, timeout=15)
        version = docker_client.version()
        info = docker_client.info()
        swarm = info.get("Swarm") or {}
        consul = [
            c.name
            for c in docker_client.containers.list()
            if c.labels.get("overlay-portal.role") == "consul" or "consul" in " ".join(c.image.tags or [])
        ]
    return EngineFacts(
        api_version=version.get("ApiVersion", ""),
        swarm_state=swarm.get("LocalNodeState", "") or "inactive",
        is_manager=bool(swarm.get("ControlAvailable")),
        swarm_id=(swarm.get("Cluster") or {}).get("ID", ""),
        node_id=swarm.get("NodeID", ""),
        consul_containers=tuple(consul),
    )


def swarm_nodes(manager_endpoint: DockerEndpoint | str) -> list[SwarmNode]:
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
                address=_node_address(attrs),
            )
        )
    return result


def _node_address(attrs: dict) -> str:
    """The node's address; a manager may report 0.0.0.0 there (moby #35437): its manager address says it."""
    address = attrs["Status"].get("Addr", "")
    if address in ("", "0.0.0.0"):
        address = (attrs.get("ManagerStatus") or {}).get("Addr", "").rpartition(":")[0] or address
    return address
