"""A container's attachment to a network: planned (its static address held), refreshed from Docker
(address, MAC, endpoint id, mirrored to Consul), removed (its address given back), and looked at again
before a run or a connect on another team's network records it (the share may have ended meanwhile)."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.models import Container, Endpoint, Network
from networks.selectors.usage import network_usage
from plumbing.errors import ServiceError

from .addresses import address_allocate, address_record, address_release
from .networks.rules import check_attachable
from .state import state_endpoint_delete, state_endpoint_write

# A name Docker's embedded DNS answers: labels of letters, digits, _ and - (not at either end), at most 63
# characters each, joined by periods; at most 253 characters in all.
_DNS_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
ALIAS_PATTERN = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*")
ALIAS_MAX_LENGTH = 253


def check_aliases(aliases) -> list[str]:
    """Each alias checked on its own: one that is no DNS name is refused by name, with the rule."""
    aliases = [a.strip() for a in (aliases or []) if a and a.strip()]
    for alias in aliases:
        if len(alias) > ALIAS_MAX_LENGTH or not ALIAS_PATTERN.fullmatch(alias):
            raise ServiceError(
                "bad_alias",
                f"Alias “{alias}” is not a valid DNS name: use letters, digits, hyphens and underscores, in labels "
                f"of at most 63 characters separated by periods and {ALIAS_MAX_LENGTH} in all, such as db or "
                "db.internal. Separate aliases with commas.",
                field="aliases",
            )
    return aliases


def endpoint_plan(*, network: Network, container: Container, aliases: list[str], ipv4_address: str = "") -> Endpoint:
    """Record an endpoint to be made, on a network a standalone container may join. A static address is
    validated (never a device's auxiliary address) and held now; otherwise Docker's
    IPAM picks one (it also hands addresses to each node's load balancer, so the portal must not
    guess) and `endpoint_refresh` records it."""
    check_attachable(network, container.name)
    requested = (ipv4_address or "").strip()
    if not requested:
        check_room(network)
    if requested:
        requested = address_allocate(network=network, owner=container.name, requested=requested).address
    Network.objects.filter(pk=network.pk).update(last_attached=timezone.now())
    return Endpoint.objects.create(
        network=network, container=container, ipv4_address=requested or None, aliases=aliases
    )


def check_room(network: Network) -> None:
    """Refuse an attachment that needs Docker to give it an address from a network with none left."""
    usage = network_usage(network)
    if usage.full:
        raise ServiceError(
            "network_full",
            f'Network "{network.name}" has no address left to give ({usage.used:,} of {usage.usable:,} used). Docker '
            "cannot resize a network: create a new, larger one (each size down doubles it: a /23 holds 510) and "
            "move containers to it, or disconnect containers you no longer need.",
            field="networks",
            http_status=409,
        )


def endpoint_refresh(*, endpoint: Endpoint, attrs: dict | None = None) -> Endpoint:
    """Copy Docker's view of the endpoint (address, MAC, endpoint id) into the portal and Consul."""
    container = endpoint.container
    attrs = attrs or docker_engine.inspect_container(container.placed_node().docker, container.docker_id) or {}
    settings = attrs.get("NetworkSettings", {}).get("Networks", {}).get(endpoint.network.name)
    if settings:
        address = settings.get("IPAddress") or endpoint.ipv4_address
        with transaction.atomic():
            if address and address != endpoint.ipv4_address and endpoint.ipv4_address:
                address_release(network=endpoint.network, address=endpoint.ipv4_address)
            if address:
                address_record(network=endpoint.network, address=address, owner=container.name)
            endpoint.ipv4_address = address
            endpoint.mac_address = settings.get("MacAddress", "")
            endpoint.endpoint_id = settings.get("EndpointID", "")
            endpoint.save(update_fields=["mac_address", "endpoint_id", "ipv4_address"])
    state_endpoint_write(endpoint=endpoint)
    return endpoint


def endpoint_remove(*, endpoint: Endpoint, force: bool, in_docker: bool = True) -> None:
    """Detach a container from a network (in Docker unless it is gone) and give its address back."""
    container, network = endpoint.container, endpoint.network
    if in_docker and container.node and container.docker_id:
        try:
            docker_engine.disconnect_container(
                container.node.docker, network.docker_id, container.docker_id, force=force
            )
        except EngineError:
            if not force:
                raise
    with transaction.atomic():
        if endpoint.ipv4_address:
            address_release(network=network, address=endpoint.ipv4_address)
        endpoint.delete()
        Network.objects.filter(pk=network.pk).update(last_attached=timezone.now())
    state_endpoint_delete(network=network, container_id=container.pk)


def check_still_shared(*, container: Container, network: Network | None = None, lock: bool = False) -> None:
    """Refuse to go on with a run (every network of the container) or a connect (`network`) on a network
    of another team's that is no longer shared with the container's team.

    With `lock` (inside a transaction, at the operation's last step) the container's row is locked first,
    the lock `shares.network_unshare` takes: an unshare is then wholly before this look or wholly after.
    """
    if lock:
        Container.objects.select_for_update().filter(pk=container.pk).values_list("pk", flat=True).first()
    endpoints = container.endpoints.select_related("network__tenant").order_by("id")
    for endpoint in endpoints.filter(network=network) if network is not None else endpoints:
        if endpoint.network.is_usable_by(container.tenant):
            continue
        assert container.tenant is not None  # a system container's look above has failed already
        name, team = endpoint.network.name, container.tenant.name
        owner = endpoint.network.tenant.name if endpoint.network.tenant else "Its owner"
        if network is not None:
            sentence = (
                f"{owner} stopped sharing {name} with {team} before {container.name} was connected to it, so it "
                f"was not connected. Connect it to a network {team} owns or one still shared with it."
            )
        else:
            sentence = (
                f"{owner} stopped sharing {name} with {team} before {container.name} was running on it, so "
                f"{container.name} was not started. Run it again on a network {team} owns or one still shared "
                "with it."
            )
        raise ServiceError("network_unshared", sentence, http_status=409)
