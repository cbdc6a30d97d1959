"""A network's portal-side details: its description and tags, changed by its own team at any time,
never sent to Docker (Docker's labels are fixed at create, moby #27598), each change in the audit log
with what was before and after."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from networks.models import Network, NetworkTag
from networks.models.network import TAG_MAX_LENGTH
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.changes import change_record

from .rules import network_owned

TAG_PATTERN = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{TAG_MAX_LENGTH - 1}}}")
TAGS_MAX = 20
DESCRIPTION_MAX_LENGTH = 500  # the column's


def check_tags(tags) -> list[str]:
    """Tags as given, trimmed and lowercased, each once, in the order given; one that is no tag is named."""
    if not isinstance(tags, list | tuple):
        raise ServiceError("bad_tags", "Tags are a list of words, such as pci or staging.", field="tags")
    found: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ServiceError("bad_tag", "Each tag is a word, such as pci or staging.", field="tags")
        tag = tag.strip().lower()
        if not tag:
            continue
        if not TAG_PATTERN.fullmatch(tag):
            raise ServiceError(
                "bad_tag",
                f"“{tag[:40]}” is not a tag: use lowercase letters, digits, - and _, starting with a letter or digit, "
                f"at most {TAG_MAX_LENGTH} characters, such as pci or eu-west.",
                field="tags",
            )
        if tag not in found:
            found.append(tag)
    if len(found) > TAGS_MAX:
        raise ServiceError(
            "too_many_tags", f"A network takes at most {TAGS_MAX} tags; {len(found):,} were given.", field="tags"
        )
    return found


def check_description(description) -> str:
    if not isinstance(description, str):
        raise ServiceError("bad_description", "The description is text.", field="description")
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ServiceError(
            "description_too_long",
            f"A description is at most {DESCRIPTION_MAX_LENGTH} characters; this one has {len(description):,}.",
            field="description",
        )
    return description


@transaction.atomic
def network_describe(
    *, actor: Actor, tenant, network: Network, description: str | None = None, tags: list[str] | None = None
) -> Network:
    """Set the description and/or the tags (None leaves one as it is) of a network of the tenant's own."""
    new_description = None if description is None else check_description(description)
    new_tags = None if tags is None else check_tags(tags)
    network = network_owned(tenant=tenant, network=network, verb="describe")
    if network.status == Network.Status.REMOVED:
        raise ServiceError(
            "bad_state", f'Network "{network.name}" is removed; its details no longer change.', http_status=409
        )
    before: dict[str, Any] = {
        "description": network.description,
        "tags": sorted(network.tags.values_list("name", flat=True)),
    }
    after: dict[str, Any] = {
        "description": before["description"] if new_description is None else new_description,
        "tags": before["tags"] if new_tags is None else sorted(new_tags),
    }
    if after == before:
        return network
    if after["description"] != before["description"]:
        network.description = after["description"]
        network.save(update_fields=["description", "updated"])
    if after["tags"] != before["tags"]:
        network.tags.exclude(name__in=after["tags"]).delete()
        NetworkTag.objects.bulk_create(
            [NetworkTag(network=network, name=name) for name in after["tags"] if name not in before["tags"]]
        )
    changed = [key for key in after if after[key] != before[key]]
    change_record(
        actor=actor,
        action="network.describe",
        tenant=tenant,
        obj=network,
        details={"before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed}},
    )
    return network
