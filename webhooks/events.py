"""The events an endpoint may ask for: the audit log's dotted actions, the end of operations and the
network warnings, named one by one or by a pattern such as `network.*`. Pure: no database."""

from __future__ import annotations

# The audit actions a team's endpoints hear of, and the events only webhooks carry.
EVENT_TYPES = (
    "network.create",
    "network.remove",
    "network.connect",
    "network.disconnect",
    "network.share",
    "network.unshare",
    "network.utilization_warning",
    "container.run",
    "container.remove_exited",
    "operation.succeeded",
    "operation.failed",
    "operation.give_up",
    "cluster.register",
    "cluster.deregister",
    "cluster.rotate",
    "registry_login.set",
    "registry_login.remove",
    "membership.add",
    "membership.remove",
    "membership.role_change",
    "token.create",
    "token.revoke",
)
PING = "webhook.ping"
FAMILIES = sorted({name.split(".", 1)[0] for name in EVENT_TYPES})
PATTERNS = tuple(f"{family}.*" for family in FAMILIES)
MAX_EVENTS = 50


class BadEvents(ValueError):
    """The sentence says which name is not an event and what to give instead."""


def events_clean(raw) -> list[str]:
    """The event names or patterns asked for, checked, without duplicates, in the order given."""
    if isinstance(raw, str):
        raw = [part for part in raw.replace(",", " ").split() if part]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise BadEvents("Pick at least one event, such as network.* or operation.failed.")
    if len(raw) > MAX_EVENTS:
        raise BadEvents(f"Pick at most {MAX_EVENTS} events; a pattern such as network.* covers a family.")
    cleaned: list[str] = []
    for name in raw:
        if not isinstance(name, str) or (name not in EVENT_TYPES and name not in PATTERNS):
            shown = str(name)[:60]
            raise BadEvents(
                f'"{shown}" is not an event. Give names such as network.create or patterns such as '
                f"{', '.join(PATTERNS[:3])}."
            )
        if name not in cleaned:
            cleaned.append(name)
    return cleaned


def event_matches(event_type: str, wanted: list[str]) -> bool:
    for pattern in wanted:
        if pattern == event_type or (pattern.endswith(".*") and event_type.startswith(pattern[:-1])):
            return True
    return False
