"""Subnets, gateways and addresses as people type them: parsed, checked against the pool, and refused
with a sentence on their field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network

from .pool import (
    MAX_PREFIXLEN,
    MIN_PREFIXLEN,
    OR_LEAVE_EMPTY,
    SUBNET_EXAMPLE,
    IpamError,
    Reserved,
    Taken,
    prefix_error,
    to_range,
)

# --------------------------------------------------------------------------- subnets


def parse_subnet(text: str) -> IPv4Network:
    """The IPv4 network a user typed, or an :class:`IpamError` telling them how to fix it."""
    text = (text or "").strip()
    if not text:
        raise IpamError("not_cidr", f"Enter a subnet in CIDR notation, such as {SUBNET_EXAMPLE}.", "subnet")
    if "/" not in text:
        try:
            address = ip_address(text)
        except ValueError:
            pass
        else:
            if address.version == 6:
                raise _not_ipv4(text)
            raise IpamError(
                "not_cidr",
                f'"{text}" is an address, not a subnet: add a prefix length, such as {address}/24.',
                "subnet",
            )
    else:
        try:
            network = ip_network(text, strict=False)
        except ValueError:
            pass
        else:
            if network.version == 6:
                raise _not_ipv4(text)
            given = ip_address(text.split("/", 1)[0])
            if given != network.network_address:
                raise IpamError(
                    "host_bits_set",
                    f"{given}/{network.prefixlen} has host bits set: did you mean {network}?",
                    "subnet",
                )
            return network
    raise IpamError("not_cidr", f'"{text}" is not a subnet in CIDR notation, such as {SUBNET_EXAMPLE}.', "subnet")


def _not_ipv4(text: str) -> IpamError:
    return IpamError(
        "not_ipv4",
        f'"{text}" is IPv6; overlay networks here use IPv4 subnets, such as {SUBNET_EXAMPLE}.',
        "subnet",
    )


def check_subnet(
    subnet: IPv4Network,
    *,
    pool: IPv4Network,
    reserved: Sequence[Reserved],
    taken: Sequence[Taken],
) -> None:
    """Refuse a subnet a user asked for, with the first reason that applies.

    ``taken`` need only hold the networks that may overlap ``subnet`` (the database
    layer can pass the answer of a range query rather than every network).
    """
    if not MIN_PREFIXLEN <= subnet.prefixlen <= MAX_PREFIXLEN:
        raise prefix_error(subnet.prefixlen)
    if not subnet.subnet_of(pool):
        where = "reaches outside" if subnet.overlaps(pool) else "is outside"
        raise IpamError(
            "outside_pool",
            f"{subnet} {where} the cluster's address pool {pool}. Pick a subnet inside {pool}, {OR_LEAVE_EMPTY}.",
            "subnet",
        )
    for r in sorted(reserved, key=lambda r: not r.servicenet):
        if not subnet.overlaps(r.network):
            continue
        if r.servicenet:
            raise IpamError(
                "overlaps_servicenet",
                f"{subnet} overlaps ServiceNet {r.network}: containers on it would lose connectivity "
                f"to ServiceNet. Pick a subnet outside {r.network}, {OR_LEAVE_EMPTY}.",
                "subnet",
            )
        what = f"the reserved range {r.network}" + (f" ({r.description})" if r.description else "")
        raise IpamError(
            "overlaps_reserved",
            f"{subnet} overlaps {what}. Pick a subnet outside {r.network}, {OR_LEAVE_EMPTY}.",
            "subnet",
        )
    for t in taken:
        if subnet.overlaps(t.network):
            raise IpamError(
                "overlaps_network",
                f"{subnet} overlaps {t.owner} ({t.network}). Pick a subnet that no network uses, {OR_LEAVE_EMPTY}.",
                "subnet",
            )


# --------------------------------------------------------------------------- addresses


def default_gateway(subnet: IPv4Network) -> IPv4Address:
    """The first host address, as Docker picks it."""
    return subnet.network_address + 1


def parse_gateway(text: str | None, subnet: IPv4Network) -> IPv4Address:
    """The gateway a user typed for ``subnet``; empty means :func:`default_gateway`."""
    default = default_gateway(subnet)
    gateway = _parse_address(text, subnet, default=default, field="gateway", kind="Gateway", code="gateway")
    if gateway is None:
        return default
    return gateway


def first_free_address(
    subnet: IPv4Network,
    *,
    gateway: IPv4Address,
    used: set[IPv4Address],
    ip_range: IPv4Network | None = None,
    aux: Mapping[IPv4Address, str] | None = None,
) -> IPv4Address:
    """The lowest host address of ``subnet`` (of its ``ip_range``, when it has one, as Docker hands them out)
    that is neither the gateway, nor used, nor an auxiliary address.

    The walk is lazy, so it looks at no more than ``len(used) + len(aux) + 2`` addresses
    before it finds one, even in a /16.
    """
    network, broadcast = to_range(subnet)
    if ip_range is not None:
        network, broadcast = (
            max(network, int(ip_range.network_address) - 1),
            min(broadcast, int(ip_range.broadcast_address) + 1),
        )
    aux = aux or {}
    for x in range(network + 1, broadcast):
        address = IPv4Address(x)
        if address != gateway and address not in used and address not in aux:
            return address
    raise IpamError(
        "subnet_full",
        f"{subnet} has no free address left. Disconnect containers you no longer need, "
        "or use a network with a larger subnet.",
        "ip_address",
    )


def check_address(
    text: str | None,
    subnet: IPv4Network,
    *,
    gateway: IPv4Address,
    used: set[IPv4Address],
    ip_range: IPv4Network | None = None,
    aux: Mapping[IPv4Address, str] | None = None,
) -> IPv4Address:
    """The container address a user typed, checked against ``subnet``; empty means the first free one.

    A static address outside the network's IP range stays allowed, as in Docker; an auxiliary address
    (a device's, ``aux``: address -> name) never is."""
    address = _parse_address(text, subnet, default=None, field="ip_address", kind="Address", code="address")
    if address is None:
        return first_free_address(subnet, gateway=gateway, used=used, ip_range=ip_range, aux=aux)
    if aux and address in aux:
        raise IpamError(
            "address_is_aux",
            f"{address} is the auxiliary address of {aux[address]}, a device already on {subnet}. "
            "Pick another address, or leave it empty to get the next free one.",
            "ip_address",
        )
    if address == gateway:
        raise IpamError(
            "address_is_gateway",
            f"{address} is the gateway of {subnet}. Pick another address, or leave it empty to get the next free one.",
            "ip_address",
        )
    if address in used:
        raise IpamError(
            "address_in_use",
            f"{address} is already used by another container on this network. "
            "Pick another address, or leave it empty to get the next free one.",
            "ip_address",
        )
    return address


def _parse_address(
    text: str | None, subnet: IPv4Network, *, default: IPv4Address | None, field: str, kind: str, code: str
) -> IPv4Address | None:
    """The checks gateways and container addresses share: a host address inside ``subnet``, or None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    if default is None:
        hosts = f"from {subnet.network_address + 1} to {subnet.broadcast_address - 1}"
        pick, fix = f"Enter an address {hosts}", "or leave it empty to get the next free one"
    else:
        pick, fix = f"Enter an address inside {subnet}, such as {default}", f"or leave it empty to use {default}"
    try:
        address = IPv4Address(text)
    except ValueError:
        raise IpamError(f"bad_{code}", f'"{text}" is not an IPv4 address. {pick}, {fix}.', field) from None
    if address not in subnet:
        raise IpamError(f"{code}_outside", f"{kind} {address} is outside the subnet {subnet}. {pick}, {fix}.", field)
    if address == subnet.network_address:
        raise IpamError(
            f"{code}_network_address",
            f"{kind} {address} is the network address of {subnet}, which no host can use. {pick}, {fix}.",
            field,
        )
    if address == subnet.broadcast_address:
        raise IpamError(
            f"{code}_broadcast",
            f"{kind} {address} is the broadcast address of {subnet}, which no host can use. {pick}, {fix}.",
            field,
        )
    return address
