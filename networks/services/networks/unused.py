"""Removing a team's unused networks in one go: the set it chose from the preview (the networks with no
container for N days), each looked at again and removed with its own operation and audit entry; one a
container joined since the preview is kept, and the answer says so."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from networks.models import Network, Operation
from networks.selectors.networks import network_unused_filter
from plumbing.errors import ServiceError
from portal.actors import Actor

from .remove import network_remove

UNUSED_REMOVE_MAX = 200  # networks one request may remove
DAYS_SENTENCE = "days is a whole number of days from 0 to 3650, such as 30."


@dataclass
class UnusedRemoval:
    """What a removal of unused networks did: an operation per network removed, a reason per one kept."""

    removed: list[tuple[Network, Operation]] = field(default_factory=list)
    kept: list[tuple[int, str, str]] = field(default_factory=list)  # (id, name as the team may see it, why)


def check_days(days) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
        raise ServiceError("bad_days", DAYS_SENTENCE, field="days")
    return days


def networks_remove_unused(*, actor: Actor, tenant, network_ids: list[int], days: int) -> UnusedRemoval:
    """Remove each chosen network still unused for `days` days; keep (and say why) every other one."""
    days = check_days(days)
    ids = list(dict.fromkeys(network_ids))
    if not ids:
        raise ServiceError(
            "nothing_chosen", "Pick the networks to remove from the list of unused ones.", field="networks"
        )
    if len(ids) > UNUSED_REMOVE_MAX:
        raise ServiceError(
            "too_many_networks",
            f"Remove at most {UNUSED_REMOVE_MAX} networks at once; {len(ids):,} were picked.",
            field="networks",
        )
    result = UnusedRemoval()
    for pk in ids:
        with transaction.atomic():  # each on its own: one kept never holds back the others
            # By id: the model's ordering (by its cluster's name) would join the cluster's row and lock it too
            # (the swarm's lock, services/allocations.py), waiting for every transaction adding rows of the cluster.
            network = (
                Network.objects.select_for_update()
                .filter(pk=pk, tenant=tenant, is_external=False)
                .order_by("pk")
                .first()
            )
            if network is None:
                result.kept.append(
                    (pk, "", f"No network {pk} of your team's: only your own networks can be removed here.")
                )
                continue
            why = _why_kept(network, days)
            if why is None:
                try:
                    result.removed.append((network, network_remove(actor=actor, tenant=tenant, network=network)))
                    continue
                except ServiceError as error:
                    why = error.message
            result.kept.append((network.pk, network.name, why))
    return result


def _why_kept(network: Network, days: int) -> str | None:
    """Why the locked network is no longer one to remove, or None when it still is."""
    if network.status != Network.Status.ACTIVE:
        return f"{network.name} is {network.get_status_display().lower()}; kept."
    if network.endpoints.exists():
        return f"A container joined {network.name} after the preview, so it was kept."
    if not network_unused_filter(Network.objects.filter(pk=network.pk), days=days).exists():
        return f"A container was on {network.name} within the last {days} days, so it was kept."
    return None
