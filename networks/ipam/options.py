"""A network's IP range and auxiliary addresses as people type them, checked against its subnet and
gateway, and refused with a sentence on their field.

The swarm keeps a network's IP range but drops its auxiliary addresses (Docker 20.10: `docker network
inspect` shows none, and a container was given one). So an auxiliary address is kept from containers
by lying outside the IP range, the only part Docker hands out by itself; one inside it (or given
without a range) is refused with a range that leaves them all out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network, ip_network

from .pool import IpamError

AUX_MAX = 64  # auxiliary addresses per network: devices on the subnet, not a second address plan
AUX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def parse_ip_range(text: str | None, subnet: IPv4Network, *, gateway: IPv4Address) -> IPv4Network | None:
    """The IP range a user typed for ``subnet`` (None when empty): a CIDR inside it, without the gateway."""
    text = (text or "").strip()
    if not text:
        return None
    example = next(subnet.subnets(prefixlen_diff=1), subnet) if subnet.prefixlen < 32 else subnet
    try:
        ip_range = ip_network(text, strict=False)
    except ValueError:
        ip_range = None
    if ip_range is None or ip_range.version != 4 or "/" not in text:
        raise IpamError(
            "bad_ip_range", f'"{text}" is not an IPv4 range in CIDR notation, such as {example}.', "ip_range"
        )
    given = IPv4Address(text.split("/", 1)[0])
    if given != ip_range.network_address:
        raise IpamError("ip_range_host_bits", f"{text} has host bits set: did you mean {ip_range}?", "ip_range")
    assert isinstance(ip_range, IPv4Network)
    if not ip_range.subnet_of(subnet):
        raise IpamError(
            "ip_range_outside",
            f"IP range {ip_range} is not inside the subnet {subnet}. Give a range inside it, such as {example}, "
            "or leave it empty to hand out the whole subnet.",
            "ip_range",
        )
    if gateway in ip_range:
        hint = range_avoiding(subnet, [gateway])
        such_as = f", such as {hint}" if hint else ""
        raise IpamError(
            "ip_range_has_gateway",
            f"IP range {ip_range} contains the gateway {gateway}. Give a range that leaves the gateway out{such_as}, "
            "or another gateway outside the range.",
            "ip_range",
        )
    return ip_range


def parse_aux_addresses(
    items: Mapping[str, str] | Iterable[tuple[str, str]],
    subnet: IPv4Network,
    *,
    gateway: IPv4Address,
    ip_range: IPv4Network | None,
) -> dict[str, IPv4Address]:
    """Name -> address of devices already on ``subnet``, as `--aux-address NAME=ADDRESS` takes them: each
    a host address of the subnet, not the gateway, names and addresses each once, outside the IP range."""
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    if len(pairs) > AUX_MAX:
        raise IpamError(
            "too_many_aux_addresses",
            f"A network holds at most {AUX_MAX} auxiliary addresses; {len(pairs):,} were given. "
            "List only the devices already on the subnet.",
            "aux_addresses",
        )
    found: dict[str, IPv4Address] = {}
    holders: dict[IPv4Address, str] = {}
    for name, text in pairs:
        name, text = (name or "").strip(), (text or "").strip()
        if not AUX_NAME.fullmatch(name):
            raise IpamError(
                "bad_aux_name",
                f'"{name}" is not a name for an auxiliary address: use letters, digits, _ . - and at most 63 '
                "characters, such as router.",
                "aux_addresses",
            )
        if name in found:
            raise IpamError(
                "aux_name_repeated", f"The name {name} is given twice. Give each device one name.", "aux_addresses"
            )
        address = _host_address(name, text, subnet)
        if address == gateway:
            raise IpamError(
                "aux_is_gateway",
                f"{name}'s address {address} is the network's gateway, which Docker holds already. "
                "Leave it out, or give the device another address.",
                "aux_addresses",
            )
        if address in holders:
            raise IpamError(
                "aux_address_repeated",
                f"{name}'s address {address} is already {holders[address]}'s. Give each device its own address.",
                "aux_addresses",
            )
        found[name], holders[address] = address, name
    if found:
        _check_outside_range(found, subnet, gateway=gateway, ip_range=ip_range)
    return found


def _host_address(name: str, text: str, subnet: IPv4Network) -> IPv4Address:
    hosts = f"{subnet.network_address + 1} to {subnet.broadcast_address - 1}"
    try:
        address = IPv4Address(text)
    except ValueError:
        raise IpamError(
            "bad_aux_address",
            f'{name}: "{text}" is not an IPv4 address. Give an address of {subnet}, from {hosts}.',
            "aux_addresses",
        ) from None
    if address not in subnet or address in (subnet.network_address, subnet.broadcast_address):
        raise IpamError(
            "aux_address_outside",
            f"{name}: {address} is not a host address of the subnet {subnet}. Give one from {hosts}.",
            "aux_addresses",
        )
    return address


def _check_outside_range(
    found: dict[str, IPv4Address], subnet: IPv4Network, *, gateway: IPv4Address, ip_range: IPv4Network | None
) -> None:
    inside = [name for name, address in found.items() if ip_range is None or address in ip_range]
    if not inside:
        return
    hint = range_avoiding(subnet, [gateway, *found.values()])
    such_as = f" such as {hint}" if hint else ""
    where = "no IP range was given" if ip_range is None else f"it lies inside the IP range {ip_range}"
    raise IpamError(
        "aux_in_range",
        f"{inside[0]}'s address {found[inside[0]]} could be given to a container: {where}, and the swarm does not "
        f"keep auxiliary addresses, so only the range keeps Docker from handing them out. Give an IP range{such_as} "
        "that leaves the auxiliary addresses out.",
        "aux_addresses",
    )


def range_avoiding(subnet: IPv4Network, avoid: Iterable[IPv4Address]) -> IPv4Network | None:
    """The largest block of ``subnet`` (lowest first) that holds none of ``avoid``; None when every /30 does.

    At most len(avoid) blocks of a size hold one, so the walk ends within a few sizes of the subnet's."""
    taken = set(avoid)
    for prefixlen in range(subnet.prefixlen + 1, 31):
        for block in subnet.subnets(new_prefix=prefixlen):
            if not any(address in block for address in taken):
                return block
    return None


def address_holders(aux_addresses: Mapping[str, str]) -> dict[IPv4Address, str]:
    """A network's recorded auxiliary addresses as address -> the device's name, for the address checks."""
    return {IPv4Address(address): name for name, address in (aux_addresses or {}).items()}
