"""Where a webhook may go: https (http only where staff allow it), to a host whose every address is
public, or in a range staff allow (WEBHOOK_ALLOWED_NETWORKS). Checked when an endpoint is saved and again
before each send, where the address checked is the one connected to (no second lookup to rebind)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from networks.models import Node

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(ValueError):
    """The sentence says why the URL is refused and what to do."""


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item, strict=False) for item in settings.WEBHOOK_ALLOWED_NETWORKS]


def destinations_allowed() -> str:
    """Where a webhook may go, in words, as the settings have it (the URL field's help)."""
    schemes = "http:// or https://" if settings.WEBHOOK_ALLOW_HTTP else "https://"
    allowed = ", ".join(str(network) for network in allowed_networks())
    return f"Where deliveries are POSTed: {schemes}, to a public address{f' or in {allowed}' if allowed else ''}."


def node_addresses() -> set[str]:
    """The cluster nodes' own addresses: never a destination, unless staff allow their range."""
    return {address for address in Node.objects.values_list("address", flat=True) if address}


def url_check(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, or UnsafeDestination."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeDestination("This is not a URL. Give one such as https://hooks.example.com/portal.") from error
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeDestination("Give an https:// URL with a host name, such as https://hooks.example.com/portal.")
    if scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise UnsafeDestination(
            "Webhooks go over https only: the body tells of your team's changes. Give an https:// URL "
            "(staff can allow http with WEBHOOK_ALLOW_HTTP)."
        )
    if parts.username or parts.password:
        raise UnsafeDestination("Leave the user name and password out of the URL: each delivery is signed instead.")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def address_refusal(address: Address, nodes: set[str]) -> str | None:
    """Why a webhook may not go to this address, or None when it may."""
    if any(address in network for network in allowed_networks()):
        return None
    if str(address) in nodes:
        return f"{address} is a node of a cluster"
    if address.is_loopback:
        return f"{address} is this machine (loopback)"
    if address.is_link_local:
        return f"{address} is link-local"
    if address.is_private:
        return f"{address} is in a private range"
    if address.is_multicast or address.is_reserved or address.is_unspecified or not address.is_global:
        return f"{address} is not a public address"
    return None


def destination_resolve(url: str) -> tuple[str, str, int, Address]:
    """(scheme, host, port, address to connect to) after resolving the host, or UnsafeDestination.

    Every address the host resolves to must be allowed: a name that answers with a public address
    and a private one is refused, whichever would be used."""
    scheme, host, port = url_check(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeDestination(f"The host {host[:100]} cannot be found (DNS). Check the URL's spelling.") from error
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    nodes = node_addresses()
    for address in addresses:
        refusal = address_refusal(address, nodes)
        if refusal:
            raise UnsafeDestination(
                f"Webhooks may not go to {host[:100]}: {refusal}, where a webhook could reach the portal's own "
                "services. Give a public address (staff can allow a range with WEBHOOK_ALLOWED_NETWORKS)."
            )
    return scheme, host, port, addresses[0]
