"""How full networks are: the addresses used of those Docker hands out (the IP range, or the subnet),
counting the gateway, auxiliary addresses and every container's endpoint, from the portal's rows.

A network is read as a model or as a row of `network_rows` (with `endpoint_rows`); many at once cost one
query for all their endpoints.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings

from networks import ipam
from networks.models import Endpoint, Network

USAGE_COLUMNS = ("subnet", "gateway", "ip_range", "aux_addresses")


def usage_of(
    *, subnet: str, gateway: str, ip_range: str, aux_addresses: dict, addresses: Iterable[str | None]
) -> ipam.AddressUsage:
    """One network's usage from its columns and its endpoints' addresses (None: Docker has yet to give one)."""
    addresses = list(addresses)
    if not (ip_range or aux_addresses or addresses):  # the gateway alone takes an address
        return ipam.gateway_usage_of_text(subnet, gateway)
    return ipam.address_usage_of_text(
        subnet,
        gateway=gateway,
        ip_range=ip_range,
        taken=(*(aux_addresses or {}).values(), *(a for a in addresses if a)),
        pending=sum(1 for a in addresses if not a),
    )


def usage_of_row(row: dict) -> ipam.AddressUsage:
    """A row of `network_rows_with_containers` (its `endpoint_rows` read already)."""
    if not (row["endpoint_rows"] or row["ip_range"] or row["aux_addresses"]):  # most rows of a page
        return ipam.gateway_usage_of_text(row["subnet"], row["gateway"])
    return usage_of(
        subnet=row["subnet"],
        gateway=row["gateway"],
        ip_range=row["ip_range"],
        aux_addresses=row["aux_addresses"],
        addresses=[endpoint["ipv4_address"] for endpoint in row["endpoint_rows"]],
    )


def network_usages(networks: Iterable[Network]) -> dict[int, ipam.AddressUsage]:
    """Each network's usage by id: one query for the endpoints of them all."""
    networks = list(networks)
    addresses: dict[int, list[str | None]] = defaultdict(list)
    if networks:
        rows = (
            Endpoint.objects.filter(network__in=[n.pk for n in networks])
            .order_by()
            .values_list("network", "ipv4_address")
        )
        for network_id, address in rows:
            addresses[network_id].append(address)
    return {
        network.pk: usage_of(
            subnet=network.subnet,
            gateway=network.gateway,
            ip_range=network.ip_range,
            aux_addresses=network.aux_addresses,
            addresses=addresses[network.pk],
        )
        for network in networks
    }


def networks_with_usage(networks: Iterable[Network]) -> list[Network]:
    """The networks, each given `usage` and `usage_warns` for a page to show (one query)."""
    networks = list(networks)
    usages = network_usages(networks)
    for network in networks:
        network.usage = usages[network.pk]  # type: ignore[attr-defined]
        network.usage_warns = usage_warns(usages[network.pk])  # type: ignore[attr-defined]
    return networks


def network_usage(network: Network) -> ipam.AddressUsage:
    return network_usages([network])[network.pk]


def usage_warns(usage: ipam.AddressUsage) -> bool:
    """Whether a network is full enough to warn about (settings.NETWORK_UTILIZATION_WARNING)."""
    return usage.ratio >= settings.NETWORK_UTILIZATION_WARNING


def networks_filling_up(*, tenant) -> list[tuple[Network, ipam.AddressUsage]]:
    """The team's own live networks at or above the warning, fullest first (the dashboard's line)."""
    networks = list(Network.objects.filter(tenant=tenant).live().only(*USAGE_COLUMNS, "name", "tenant"))
    usages = network_usages(networks)
    filling = [(network, usages[network.pk]) for network in networks if usage_warns(usages[network.pk])]
    return sorted(filling, key=lambda pair: (-pair[1].ratio, pair[0].name))
