"""The network state kept in the cluster's Consul, under the cluster's own prefix (run by workers only).

Keys: <prefix>/networks/<network id>, <prefix>/endpoints/<network id>/<container id>,
<prefix>/subnets/<cidr with _ for />. Values are JSON, readable by anyone operating the cluster.
"""

from __future__ import annotations

import json

from networks.engine import consul as consul_engine
from networks.models import Cluster, Endpoint, Network


def subnet_key(cluster: Cluster, cidr: str) -> str:
    """The reservation of a block, created with check-and-set so a second writer on the swarm fails."""
    return f"{cluster.consul_prefix}/subnets/{cidr.replace('/', '_')}"


def network_key(network: Network) -> str:
    return network_key_of(network.cluster, network.pk)


def network_key_of(cluster: Cluster, network_id: int) -> str:
    return f"{cluster.consul_prefix}/networks/{network_id}"


def endpoint_prefix(network: Network) -> str:
    return f"{network.cluster.consul_prefix}/endpoints/{network.pk}/"


def network_document(network: Network) -> dict:
    return {
        "id": network.docker_id,
        "portal_id": network.pk,
        "name": network.name,
        "subnet": network.subnet,
        "gateway": network.gateway,
        "internal": network.internal,
        "encrypted": network.encrypted,
        "ip_range": network.ip_range,
        "aux_addresses": network.aux_addresses,
        "mtu": network.mtu,
        "attachable": network.attachable,
        "tenant": network.tenant.slug if network.tenant else "",
        "labels": network.labels,
        "external": network.is_external,
    }


def endpoint_document(endpoint: Endpoint) -> dict:
    container = endpoint.container
    return {
        "container": container.docker_id,
        "name": container.name,
        "network": endpoint.network.docker_id,
        "ipv4_address": endpoint.ipv4_address,
        "mac_address": endpoint.mac_address,
        "endpoint_id": endpoint.endpoint_id,
        "aliases": endpoint.aliases,
        "node": container.node.name if container.node else "",
    }


def _put(network: Network, key: str, document: dict) -> None:
    consul_engine.kv_put(network.cluster.consul, key, json.dumps(document, sort_keys=True))


def state_network_write(*, network: Network) -> None:
    _put(network, network_key(network), network_document(network))


def state_networks_write(*, cluster: Cluster, networks: list[Network]) -> None:
    """Write the documents of many networks of `cluster` in Consul transactions (state_network_write's, together)."""
    items = [(network_key(network), json.dumps(network_document(network), sort_keys=True)) for network in networks]
    consul_engine.kv_put_all(cluster.consul, items)


def state_network_delete(*, network: Network, release_subnet: bool = False) -> None:
    """Forget the network and its endpoints (and, with `release_subnet`, its block's reservation) at once."""
    keys = [network_key(network)]
    if release_subnet:
        keys.append(subnet_key(network.cluster, network.subnet))
    consul_engine.kv_delete_all(network.cluster.consul, keys=keys, trees=[endpoint_prefix(network)])


def state_endpoint_write(*, endpoint: Endpoint) -> None:
    _put(endpoint.network, endpoint_prefix(endpoint.network) + str(endpoint.container_id), endpoint_document(endpoint))


def state_endpoint_delete(*, network: Network, container_id: int) -> None:
    consul_engine.kv_delete(network.cluster.consul, endpoint_prefix(network) + str(container_id))
