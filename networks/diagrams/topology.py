"""The topology as plain data for its SVG template: pure Python, no Django, no I/O.

Nodes stand side by side; every overlay network is a bus across all of them (an overlay spans the
cluster); each container stands in its node's column with a line up to every network it is attached to.
A team with hundreds of networks and a few containers would see a wall of empty buses above them, so a
network no container is on is left out unless asked for (`show_empty`), and the picture counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TOPO_LEFT = 190  # room for the network names
TOPO_TOP = 64  # node names and addresses
TOPO_BUS_GAP = 34
TOPO_BOX_W = 172
TOPO_BOX_H = 66
TOPO_GAP = 16
TOPO_PALETTE = 8  # distinct network colours (portal.css .net-0 .. .net-7)


@dataclass
class TopoNetwork:
    id: int
    name: str
    subnet: str
    shared: bool  # another team's network, shared with the viewer's
    status: str
    y: int = 0
    colour: int = 0


@dataclass
class TopoContainer:
    id: int
    name: str
    image: str
    status: str
    node: str
    exposed: bool
    exposure: list[str]
    system: bool
    network_ids: list[int]
    x: int = 0
    y: int = 0
    links: list[tuple[int, int, int]] = field(default_factory=list)  # (x, bus y, colour)

    @property
    def published(self) -> list[str]:
        """Where the Internet reaches it: NODE_ADDRESS:PORT of each published port."""
        return [line.split(" -> ")[0] for line in self.exposure]


@dataclass
class TopoNode:
    name: str
    address: str
    role: str
    state: str
    x: int = 0
    width: int = 0
    containers: list[TopoContainer] = field(default_factory=list)


@dataclass
class Topology:
    nodes: list[TopoNode]
    networks: list[TopoNetwork]
    width: int
    height: int
    box_width: int = TOPO_BOX_W
    box_height: int = TOPO_BOX_H
    left: int = TOPO_LEFT
    top: int = TOPO_TOP
    unplaced: list[TopoContainer] = field(default_factory=list)
    hidden: int = 0  # networks without a container, left out of the picture

    @property
    def bus_end(self) -> int:
        return self.width - TOPO_GAP

    @property
    def bus_start(self) -> int:
        return self.left - 12

    @property
    def node_height(self) -> int:
        return self.height - 16


def topology(
    nodes: list[TopoNode], networks: list[TopoNetwork], containers: list[TopoContainer], *, show_empty: bool = True
) -> Topology:
    """Place nodes, network buses and containers; containers of unknown nodes are listed apart. Without
    `show_empty`, networks no container is on are left out (`hidden` counts them)."""
    shown = networks
    if not show_empty:
        used = {network_id for container in containers for network_id in container.network_ids}
        shown = [network for network in networks if network.id in used]
    hidden = len(networks) - len(shown)
    networks = shown
    by_name = {node.name: node for node in nodes}
    unplaced = []
    for container in containers:
        node = by_name.get(container.node)
        if node is None:
            unplaced.append(container)
        else:
            node.containers.append(container)
    for i, network in enumerate(networks):
        network.y = TOPO_TOP + 24 + i * TOPO_BUS_GAP
        network.colour = i % TOPO_PALETTE
    buses = {network.id: network for network in networks}
    box_top = TOPO_TOP + 24 + max(len(networks) - 1, 0) * TOPO_BUS_GAP + 40
    x = TOPO_LEFT
    for node in nodes:
        node.x = x
        node.width = max(len(node.containers), 1) * (TOPO_BOX_W + TOPO_GAP) + TOPO_GAP
        for j, container in enumerate(node.containers):
            container.x = x + TOPO_GAP + j * (TOPO_BOX_W + TOPO_GAP)
            container.y = box_top
            attached = [buses[i] for i in container.network_ids if i in buses]
            step = (TOPO_BOX_W - 24) // max(len(attached), 1)
            container.links = [
                (container.x + 12 + k * min(step, 14), bus.y, bus.colour) for k, bus in enumerate(attached)
            ]
        x += node.width + TOPO_GAP
    width = max(x, TOPO_LEFT + 200)
    height = box_top + TOPO_BOX_H + 24
    return Topology(nodes=nodes, networks=networks, width=width, height=height, unplaced=unplaced, hidden=hidden)
