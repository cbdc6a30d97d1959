"""Making a network's Docker network, and taking it back: what the swarm really built, not what the
create call said.

A swarm accepts an overlay network whose subnet overlaps another one and leaves it without a driver
or an address configuration (swarmkit #2398). Such a network is removed at once; then either the
swarm has not yet let go of a block just freed (a retry builds it), or the swarm holds the block with
a network the portal did not know of (a failed create's leftover, one made on the CLI since the last
reconcile). A block the portal chose is then recorded as held and the next free one is tried; a block
the user asked for is refused with a sentence. Whatever happens, the Docker networks a create made
are found again by the portal's labels and the network's id.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from networks import ipam
from networks import labels as docker_labels
from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.engine.inspect import network_differences
from networks.models import Cluster, Network, Operation, SubnetAllocation
from plumbing.prepared import PreparedObjects

from .allocations import (
    SubnetConflict,
    subnet_release_in_consul,
    subnet_reservations_elsewhere,
    subnet_reserve_in_consul,
    subnet_step_past,
)
from .operations import operation_progress

logger = logging.getLogger(__name__)

# A swarm whose allocator has not yet let go of a block just freed (a network removed a moment ago)
# builds the next network on it broken; a real clash stays. Tries, and the pause before each retry:
BUILD_TRIES = 4
BUILD_RETRY_SECONDS = 1.0
# Blocks held by networks the portal did not know of that one create steps past before it gives up.
STEP_PAST_MAX = 16


def network_labels(network: Network) -> dict[str, str]:
    assert network.tenant is not None, "the portal builds only a team's networks; the swarm's own are found"
    return {
        **network.labels,
        **docker_labels.portal_labels(
            cluster_uid=network.cluster.uid,
            tenant_slug=network.tenant.slug,
            id_label=docker_labels.NETWORK_ID,
            pk=network.pk,
        ),
    }


def made_by(network: Network) -> list[str]:
    """The label filters that find the Docker networks made for `network` (every try of its create)."""
    return docker_labels.selector(**{docker_labels.CLUSTER: network.cluster.uid, docker_labels.NETWORK_ID: network.pk})


def portal_chose_block(operation: Operation) -> bool:
    """Whether the portal chose the block (no subnet and no gateway given), so it may choose another."""
    return bool(operation.params.get("block_chosen_by_portal"))


NOT_TRIED = object()


def network_build(*, operation: Operation, network: Network, created=NOT_TRIED) -> dict:
    """Create the Docker network (or find the one an earlier try made) and check the swarm built it;
    `network`'s subnet and gateway change when the portal steps past a block the swarm holds.

    `created`: what a first try made beside this run said (`network_create_call`'s answer; run_together.py
    reads it for a batch's slice at once)."""
    cluster = network.cluster
    retries = steps = 0
    while True:
        # Only a delivery after an earlier one (a retry, a worker lost mid-way) can find its network made.
        found = (
            docker_engine.find_networks(cluster.docker, labels=made_by(network))
            if operation.attempts > 1 and created is NOT_TRIED
            else []
        )
        attrs: dict | None
        if created is not NOT_TRIED:
            attrs, created = created, NOT_TRIED
        elif found:
            attrs = docker_engine.network_allocated(cluster.docker, found[0]["Id"])
            operation_progress(operation=operation, message="Found the network made by an earlier try; using it.")
        else:
            operation_progress(operation=operation, message=creating_note(network))
            attrs = network_create_call(network)
        if attrs is not None and not docker_engine.network_is_broken(attrs):
            _check_built_as_asked(cluster, network, attrs)
            return attrs
        if attrs is not None:
            docker_engine.remove_network(cluster.docker, attrs["Id"])
        holder = _swarm_holder(cluster, network)
        if holder is not None and portal_chose_block(operation) and steps < STEP_PAST_MAX:
            steps += 1
            before = network.subnet
            _step_past(
                operation,
                network,
                [holder[1]],
                owner=f'network "{holder[0]}" found in the swarm',
                why=f"The swarm already has a network on {holder[1]} that the portal did not know of",
            )
            try:
                subnet_release_in_consul(cluster=cluster, cidr=before)
            except EngineError:
                logger.warning("could not release %s in Consul; reconcile removes the stale key", before)
            network_reserve(operation=operation, network=network)
            continue
        if holder is not None:
            raise EngineError(
                f"The swarm could not build network {network.name} on {network.subnet}: it clashes with a network "
                f"the swarm already has on {holder[1]}, which the portal did not know of. Pick another subnet, or "
                "leave it empty to get the next free one (an admin can reconcile the cluster to see what holds it).",
                code="network_broken",
            )
        retries += 1
        if retries >= BUILD_TRIES:
            raise EngineError(
                f"The swarm accepted network {network.name} but could not build it (it has no driver and no "
                f"address configuration) on {network.subnet}. The broken network was removed and the subnet "
                "freed; create it again (an admin can reconcile the cluster to see what holds it).",
                code="network_broken",
            )
        operation_progress(
            operation=operation,
            message=f"The swarm could not build {network.name} on {network.subnet} (no driver, no address "
            f"configuration); removed it, trying again ({retries}/{BUILD_TRIES - 1}).",
        )
        time.sleep(BUILD_RETRY_SECONDS * retries)


def creating_note(network: Network) -> str:
    return f"Creating overlay network {network.name} on {network.subnet}."


def network_create_call(network: Network) -> dict | None:
    """The new network's attributes once the swarm has built it (or given up: network_allocated); None when
    Docker refused the subnet as overlapping another network."""
    created = network_create_sent(network)
    return None if created is None else docker_engine.network_allocated(network.cluster.docker, created)


def network_create_sent(network: Network) -> str | None:
    """The create call alone: the new network's id; None when Docker refused the subnet as overlapping another
    network. Docker only: a batch's run makes these calls side by side in threads, then reads what the swarm
    built for all of them at once (run_together.py)."""
    cluster = network.cluster
    try:
        return docker_engine.overlay_network_create(
            cluster.docker,
            network.name,
            subnet=network.subnet,
            gateway=network.gateway,
            labels=network_labels(network),
            internal=network.internal,
            encrypted=network.encrypted,
            ip_range=network.ip_range,
            aux_addresses=network.aux_addresses,
            mtu=network.mtu,
            attachable=network.attachable,
        )
    except EngineError as error:
        if error.code == "pool_overlaps":
            return None
        raise


def _check_built_as_asked(cluster: Cluster, network: Network, attrs: dict) -> None:
    """Remove a network the swarm built otherwise than asked (an engine that ignores an option) and say so."""
    expected = {
        "subnet": network.subnet,
        "gateway": network.gateway,
        "ip_range": network.ip_range,
        "mtu": network.mtu,
        "attachable": network.attachable,
        "internal": network.internal,
        "encrypted": network.encrypted,
    }
    differences = network_differences(attrs, expected=expected)
    if not differences:
        return
    docker_engine.remove_network(cluster.docker, attrs["Id"])
    raise EngineError(
        f"The swarm built network {network.name} with {'; '.join(differences)}, so the portal removed it. "
        "The cluster's engine may not support one of the options: create it again without it, or ask an admin "
        "to check the engine's version.",
        code="network_mismatch",
    )


def _swarm_holder(cluster: Cluster, network: Network) -> tuple[str, ipaddress.IPv4Network] | None:
    """The swarm network (built, not `network`'s own) whose subnet overlaps `network`'s, as (name, block)."""
    candidates = []
    for attrs in docker_engine.find_networks(cluster.docker):
        labels = attrs.get("Labels") or {}
        if docker_engine.network_is_broken(attrs) or (
            labels.get(docker_labels.CLUSTER) == str(cluster.uid)
            and labels.get(docker_labels.NETWORK_ID) == str(network.pk)
        ):
            continue
        for config in (attrs.get("IPAM") or {}).get("Config") or []:
            if config.get("Subnet"):
                candidates.append((attrs.get("Name", ""), config["Subnet"]))
    return ipam.first_overlapping(network.subnet_network, candidates)


def _step_past(
    operation: Operation, network: Network, taken: list[ipaddress.IPv4Network], *, owner: str, why: str
) -> None:
    """Record the blocks taken as held, move `network` to the next free block, and say so."""
    before = network.subnet
    subnet_step_past(network=network, taken=taken, owner=owner)
    operation.params = {**operation.params, "subnet": network.subnet, "gateway": network.gateway}
    Operation.objects.filter(pk=operation.pk).update(params=operation.params)
    operation_progress(
        operation=operation, message=f"{why}; recorded it as held, trying {network.subnet} instead of {before}."
    )


# The network's block, read by a query compiled once per worker thread (plumbing/prepared.py).
_allocation_of = PreparedObjects(lambda network: SubnetAllocation.objects.filter(network=network).order_by(), "network")


def network_reserve(*, operation: Operation, network: Network) -> None:
    """Reserve the network's block in the cluster's state store (check-and-set). A block the portal chose
    that another writer on the swarm (another portal on the same swarm) has already reserved is recorded
    as held and the next free one is tried; a block the user asked for is refused."""
    for step in range(STEP_PAST_MAX + 1):
        operation_progress(operation=operation, message=f"Reserving {network.subnet} in the cluster's state store.")
        found = _allocation_of(network=network.pk)
        if not found:
            raise SubnetAllocation.DoesNotExist(f"network {network.pk} holds no block")
        allocation = found[0]
        allocation.network, allocation.cluster = network, network.cluster  # read with the operation already
        try:
            subnet_reserve_in_consul(allocation=allocation)
            return
        except SubnetConflict:
            if not portal_chose_block(operation) or step == STEP_PAST_MAX:
                raise
        # Every block the other writers hold, at once: they fill the pool from its start as this portal does.
        elsewhere = subnet_reservations_elsewhere(cluster=network.cluster)
        _step_past(
            operation,
            network,
            [ipaddress.IPv4Network(cidr) for cidr in elsewhere],
            owner="reserved in the cluster's state store by another writer",
            why=f"Another writer on the swarm has already reserved {network.subnet} in the cluster's state store",
        )


def network_unmake(*, network: Network) -> list[str]:
    """Remove every Docker network made for `network` (found by the portal's labels and its id); returns
    their ids. Raises EngineError when the cluster cannot be asked or refuses."""
    cluster = network.cluster
    removed = []
    for attrs in docker_engine.find_networks(cluster.docker, labels=made_by(network)):
        docker_engine.remove_network(cluster.docker, attrs["Id"])
        removed.append(attrs["Id"])
    return removed
