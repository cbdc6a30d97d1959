"""`docker network inspect` of one network, asked of a worker (the web never calls Docker) and answered
from every node of the cluster."""

from __future__ import annotations

from networks.engine import docker as docker_engine
from networks.engine.inspect import network_inspect_document
from networks.models import Network

from .. import queue


def network_inspect(*, network: Network, timeout: float = 15) -> dict:
    """The live `docker network inspect` view, asked of a worker (web requests never call Docker)."""
    return queue.ask(queue.NETWORK_INSPECT, network.pk, timeout=timeout)


def network_inspect_live(*, network: Network) -> dict:
    """`docker network inspect` from the cluster, with every node's containers merged in.

    In swarm mode each engine only lists its own containers on an overlay network, so the
    Containers of every node where the network is instantiated are gathered.
    """
    cluster = network.cluster
    attrs = docker_engine.inspect_network(cluster.docker, network.docker_id)
    containers = dict(attrs.get("Containers") or {})
    for node in cluster.nodes.exclude(docker_endpoint=cluster.docker_endpoint):
        local = docker_engine.network_on_node(node.docker, network.docker_id)
        if local:
            containers.update(local.get("Containers") or {})
    return network_inspect_document(attrs, containers, aux_addresses=network.aux_addresses)
