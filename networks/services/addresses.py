"""Addresses inside a network: held for a container (the one asked for, or the first free), recorded as
Docker's IPAM gave them, released. Decided under the network's row lock, backed by a unique constraint."""

from __future__ import annotations

import ipaddress

from django.db import IntegrityError, transaction

from networks import ipam
from networks.models import AddressAllocation, Network


@transaction.atomic
def address_allocate(*, network: Network, owner: str, requested: str | None = None) -> AddressAllocation:
    """Hold an IPv4 address of `network` for a container: the one asked for (validated) or the first free."""
    network = Network.objects.select_for_update().get(pk=network.pk)
    subnet = network.subnet_network
    gateway = ipaddress.IPv4Address(network.gateway)
    used = {ipaddress.IPv4Address(a) for a in network.address_allocations.values_list("address", flat=True)}
    address = ipam.check_address(
        requested,
        subnet,
        gateway=gateway,
        used=used,
        ip_range=ipaddress.IPv4Network(network.ip_range) if network.ip_range else None,
        aux=ipam.address_holders(network.aux_addresses),
    )
    try:
        with transaction.atomic():
            return AddressAllocation.objects.create(network=network, address=str(address), owner=owner)
    except IntegrityError as exc:
        raise ipam.IpamError(
            "address_in_use", f"{address} was taken at the same moment by another container. Try again.", "ip_address"
        ) from exc


def address_record(*, network: Network, address: str, owner: str) -> AddressAllocation:
    """Record the address Docker's IPAM gave a container (idempotent)."""
    allocation, _ = AddressAllocation.objects.update_or_create(
        network=network, address=address, defaults={"owner": owner}
    )
    return allocation


def address_release(*, network: Network, address: str) -> None:
    AddressAllocation.objects.filter(network=network, address=address).delete()
