"""Docker labels: the ones the portal puts on what it makes (and finds its own objects again by), and
the rule for the ones users give a network, used by the pages and the API alike.

Every label the portal reads or writes is named here; labels starting with PREFIX are the
portal's own, and users may not set them. Docker refuses an empty label name (`docker network
create --label =x` says "empty name"); the other limits keep a label something a person can read
and Docker can store: no spaces or control characters in a name, none in a value, sensible lengths.
"""

from __future__ import annotations

import unicodedata
import uuid

from plumbing.errors import ServiceError

PREFIX = "overlay-portal."
MANAGED = f"{PREFIX}managed"  # "true" on every network and container the portal made
SYSTEM = f"{PREFIX}system"  # "true" on the cluster's protected system containers (its Consul agents)
CLUSTER = f"{PREFIX}cluster"  # the portal cluster's uid
TENANT = f"{PREFIX}tenant"  # the slug of the team that asked for it
NETWORK_ID = f"{PREFIX}network-id"  # the portal's id of the network
CONTAINER_ID = f"{PREFIX}container-id"  # the portal's id of the container
PROBE = f"{PREFIX}probe"  # "true" on the throw-away container that reads a node's listening ports


def portal_labels(*, cluster_uid: uuid.UUID | str, tenant_slug: str, id_label: str, pk: int) -> dict[str, str]:
    """What the portal writes on an object it makes, so an idempotent retry or a reconcile finds it again."""
    return {MANAGED: "true", CLUSTER: str(cluster_uid), id_label: str(pk), TENANT: tenant_slug}


def is_portal_label(key: str) -> bool:
    return key.startswith(PREFIX)


def selector(**pairs: object) -> list[str]:
    """`docker ... --filter label=KEY=VALUE` filters for the given labels."""
    return [f"{key}={value}" for key, value in pairs.items()]


LABEL_KEY_MAX_LENGTH = 128
LABEL_VALUE_MAX_LENGTH = 1024
LABELS_MAX_COUNT = 64


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in text)


def _refuse(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, field="labels")


def labels_check(labels) -> dict[str, str]:
    """Labels a user gave, as given, or a ServiceError whose sentence names the first one Docker would not
    take or that belongs to the portal."""
    labels = labels or {}
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise _refuse("bad_labels", "Labels are pairs of text, such as team=payments.")
    if len(labels) > LABELS_MAX_COUNT:
        raise _refuse("too_many_labels", f"A network takes at most {LABELS_MAX_COUNT} labels; this has {len(labels)}.")
    for key, value in labels.items():
        if not key.strip():
            raise _refuse("bad_label_key", "A label needs a name before its =, such as team=payments.")
        shown = key[:40] + ("…" if len(key) > 40 else "")
        if len(key) > LABEL_KEY_MAX_LENGTH:
            raise _refuse(
                "bad_label_key",
                f'The label name "{shown}" is {len(key):,} characters long; '
                f"use at most {LABEL_KEY_MAX_LENGTH}, such as com.example.team.",
            )
        if "=" in key or any(char.isspace() for char in key) or _has_control(key):
            raise _refuse(
                "bad_label_key",
                f'The label name "{shown.encode("unicode_escape").decode()}" has a space, an = or a control '
                "character; use letters, digits, dots and hyphens, such as com.example.team.",
            )
        if len(value) > LABEL_VALUE_MAX_LENGTH:
            raise _refuse(
                "bad_label_value",
                f'The value of label "{shown}" is {len(value):,} characters long; use at most {LABEL_VALUE_MAX_LENGTH}.',
            )
        if _has_control(value):
            raise _refuse(
                "bad_label_value",
                f'The value of label "{shown}" has a control character (such as a tab or a line break); remove it.',
            )
    reserved = sorted(key for key in labels if is_portal_label(key))
    if reserved:
        raise _refuse(
            "reserved_label",
            f"Labels starting with {PREFIX} belong to the portal ({', '.join(reserved)}). Rename them.",
        )
    return labels
