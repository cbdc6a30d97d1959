"""Entity tags for JSON answers: an answer's ETag is a digest of its body, so a client that sends it back in
If-None-Match is told (304) when nothing it would see has changed, whatever changed it."""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.http import parse_etags


def body_etag(data) -> str:
    """A strong ETag of what the answer's JSON holds (the same data, the same tag)."""
    encoded = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()
    return f'"{hashlib.blake2b(encoded, digest_size=12).hexdigest()}"'


def seen_etags(request) -> list[str]:
    """The tags the request's If-None-Match names ("*" for any); none without the header."""
    return parse_etags(request.headers.get("If-None-Match", ""))


def is_seen(tag: str, seen: list[str]) -> bool:
    """Whether an answer tagged `tag` is one the client already has (If-None-Match's weak comparison)."""
    bare = tag.removeprefix("W/")
    return "*" in seen or any(other.removeprefix("W/") == bare for other in seen)
