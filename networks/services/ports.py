"""Host ports a run may publish: not one the node itself serves, not one another container holds there.

Docker only learns of a clash when the container starts, and then says "port is already allocated"
whoever holds it (Consul, the Docker API, another team). The portal refuses before anything runs,
and says what holds the port. Docker's own refusal stays as the last line of defence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from networks.models import Container, Node
from plumbing.errors import ServiceError

PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True)
class ReservedPort:
    """A host port every node of a cluster serves itself; `what` reads after "Host port N/proto is"."""

    port: int
    protocol: str
    what: str


def _both(port: int, what: str) -> tuple[ReservedPort, ...]:
    return tuple(ReservedPort(port, protocol, what) for protocol in PROTOCOLS)


# What Docker, swarm mode, the cluster's Consul agents and the node's SSH listen on, on every node.
NODE_PORTS: tuple[ReservedPort, ...] = (
    ReservedPort(22, "tcp", "the node's SSH server"),
    ReservedPort(2375, "tcp", "the Docker API"),
    ReservedPort(2376, "tcp", "the Docker API over TLS"),
    ReservedPort(2377, "tcp", "swarm management (the managers' Raft and node joins)"),
    *_both(7946, "swarm gossip (the nodes finding each other)"),
    ReservedPort(4789, "udp", "the VXLAN traffic of the overlay networks"),
    ReservedPort(8300, "tcp", "the cluster's Consul server RPC"),
    *_both(8301, "the cluster's Consul LAN gossip (Serf)"),
    *_both(8302, "the cluster's Consul WAN gossip (Serf)"),
    ReservedPort(8500, "tcp", "the cluster's Consul HTTP API"),
    *_both(8600, "the cluster's Consul DNS"),
)

# One entry of NODE_RESERVED_PORTS: PORT[-LAST][/tcp|/udp|/tcp+udp]:WHAT
RESERVED_SPEC = re.compile(
    r"^(?P<first>\d{1,5})(?:-(?P<last>\d{1,5}))?(?:/(?P<protocol>tcp|udp|tcp\+udp))?:(?P<what>.+)$"
)
MAX_RANGE = 1024  # a longer range in the setting is more likely a typo than a node's real listeners


def parse_reserved(text: str) -> tuple[ReservedPort, ...]:
    """NODE_RESERVED_PORTS as an operator writes it: `9100/tcp:the node exporter,5000-5001:a registry`.

    The protocol is tcp unless written (`/udp`, or `/tcp+udp` for both), as `docker run --publish` reads it.
    """
    reserved = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        match = RESERVED_SPEC.match(item)
        first = int(match["first"]) if match else 0
        last = int(match["last"] or first) if match else 0
        if not match or not 1 <= first <= last <= 65535 or last - first >= MAX_RANGE or not match["what"].strip():
            raise ImproperlyConfigured(
                f'NODE_RESERVED_PORTS: "{item}" is not a reserved port. Write PORT[-LAST][/tcp|/udp|/tcp+udp]:WHAT, '
                "such as 9100/tcp:the node exporter, separated by commas."
            )
        protocols = PROTOCOLS if match["protocol"] == "tcp+udp" else (match["protocol"] or "tcp",)
        reserved += [
            ReservedPort(port, protocol, match["what"].strip())
            for port in range(first, last + 1)
            for protocol in protocols
        ]
    return tuple(reserved)


@functools.lru_cache(maxsize=8)
def _reserved_table(extra: str) -> dict[tuple[int, str], ReservedPort]:
    # the operator's entries after the built-in ones: an operator may describe a port better
    return {(r.port, r.protocol): r for r in (*NODE_PORTS, *parse_reserved(extra))}


def reserved_ports() -> dict[tuple[int, str], ReservedPort]:
    """Every host port the nodes serve themselves, by (port, protocol): the built-in table and the setting."""
    return _reserved_table(getattr(settings, "NODE_RESERVED_PORTS", "") or "")


def suggest_port(protocol: str, taken: Iterable[int] = ()) -> int:
    """A host port to offer instead: 8080 or the next one up that is neither reserved nor taken."""
    reserved, taken = reserved_ports(), set(taken)
    port = 8080
    while (port, protocol) in reserved or port in taken:
        port += 1
    return port


def check_not_reserved(published: Iterable) -> None:
    """Refuse a publish of a host port the node itself serves, naming what serves it."""
    reserved = reserved_ports()
    for port in published:
        holder = reserved.get((port.host, port.protocol)) if port.host else None
        if holder is not None:
            raise ServiceError(
                "port_reserved",
                f"Host port {port.host}/{port.protocol} is {holder.what} on every node; pick another host port, "
                f"such as {suggest_port(port.protocol)}.",
                field="ports",
            )


# A container holds its host ports from the run until Docker has removed it; an exited one has let go.
HOLDING = (Container.Status.CREATING, Container.Status.RUNNING, Container.Status.REMOVING)


def host_ports_of(container: Container) -> set[tuple[int, str]]:
    """The (host port, protocol) pairs a container asked for or Docker gave it (publish-all included)."""
    held = {(int(p["host"]), p["protocol"]) for p in container.ports if p.get("host")}
    for row in container.published_ports:
        if str(row.get("host_port", "")).isdigit():
            protocol = str(row.get("port", "")).partition("/")[2]
            held.add((int(row["host_port"]), protocol or "tcp"))
    return held


NODE_PROGRAM = "a program the node itself runs (listening there when a worker last looked)"


def holders_on(node: Node) -> dict[tuple[int, str], Container | str]:
    """Who holds each host port of the node: the containers the portal recorded, else the node's own
    listeners (a published container's port also shows as a listener: the container is named first)."""
    holders: dict[tuple[int, str], Container | str] = {
        (int(port), proto): NODE_PROGRAM for port, proto in node.listening_ports
    }
    containers = Container.objects.filter(node=node, status__in=HOLDING).only(
        "name", "tenant_id", "is_system", "ports", "published_ports"
    )
    holders.update({pair: container for container in containers.order_by("pk") for pair in host_ports_of(container)})
    return holders


def _wanted(published: Iterable) -> list[tuple[int, str]]:
    return [(p.host, p.protocol) for p in published if p.host]


def clash_on(*, node: Node, published: Iterable) -> tuple[tuple[int, str], Container | str] | None:
    """The first requested host port another container holds on the node, and that container."""
    holders = holders_on(node)
    return next(((pair, holders[pair]) for pair in _wanted(published) if pair in holders), None)


def _holder_named(container: Container | str, tenant) -> str:
    if isinstance(container, str):
        return container
    if container.is_system:
        return f"the system container {container.name}"
    if container.tenant_id == tenant.pk:
        return f"your container {container.name}"
    return "another team's container"  # never its name: other teams' objects are not shown


def check_ports_free(*, tenant, node: Node, published: Iterable) -> None:
    """Refuse a publish of a host port another container already holds on the node."""
    clash = clash_on(node=node, published=published)
    if clash is None:
        return
    (port, protocol), holder = clash
    taken = [p for p, proto in holders_on(node) if proto == protocol]
    raise ServiceError(
        "port_in_use",
        f"Host port {port}/{protocol} on {node.name} is "
        f"{'in use by' if isinstance(holder, str) else 'already published by'} {_holder_named(holder, tenant)}; "
        f"pick another host port, such as {suggest_port(protocol, taken)}.",
        field="ports",
        http_status=409,
    )


def node_with_free_ports(*, tenant, cluster, nodes: Sequence[Node], published: Iterable) -> Node:
    """The first of `nodes` (in the spread order) where every requested host port is free.

    When none has them all free, the refusal is the first node's: what holds the port there.
    """
    published = list(published)
    if not _wanted(published):
        return nodes[0]
    for node in nodes:
        if clash_on(node=node, published=published) is None:
            return node
    if len(nodes) == 1:
        check_ports_free(tenant=tenant, node=nodes[0], published=published)
    clash = clash_on(node=nodes[0], published=published)
    assert clash is not None, "no node had the ports free, so the first one has a clash"
    (port, protocol), _ = clash
    raise ServiceError(
        "port_in_use",
        f"Host port {port}/{protocol} is already published on every ready node of {cluster.name}; "
        f"pick another host port, such as {suggest_port(protocol, _taken_everywhere(nodes, protocol))}.",
        field="ports",
        http_status=409,
    )


def _taken_everywhere(nodes: Sequence[Node], protocol: str) -> set[int]:
    taken: set[int] = set()
    for node in nodes:
        taken |= {port for port, proto in holders_on(node) if proto == protocol}
    return taken


reserved_ports()  # a mistyped NODE_RESERVED_PORTS stops each process as it starts, never a user's run
