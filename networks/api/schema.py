"""What the schema says of calls that start or follow an operation: ?wait=, If-None-Match, Idempotency-Key,
202 answers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from plumbing.api.schema import errors

from .views.base import MAX_WAIT_SECONDS

WAIT = OpenApiParameter(
    "wait",
    OpenApiTypes.NUMBER,
    OpenApiParameter.QUERY,
    description=f"Hold the answer up to this many seconds (0-{MAX_WAIT_SECONDS}) until the operation ends: "
    "200 when it has, 202 when the wait ran out.",
)
FOLLOW_WAIT = OpenApiParameter(
    "wait",
    OpenApiTypes.NUMBER,
    OpenApiParameter.QUERY,
    description=f"Hold the answer up to this many seconds (0-{MAX_WAIT_SECONDS}): with If-None-Match, until the "
    "operation differs from that ETag (then 200 with it; 304 when the wait ran out), else until it has ended.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of the answer last read: 304 (no body) while the operation is still as it was.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique text (at most 255 characters). A retry with the same key and body gets the first "
    "answer back instead of creating twice; the same key with another body is a 422.",
)


def accepted(serializer, *error_codes) -> dict:
    """The answers of a call that starts an operation: 202 (or 200 after ?wait=) with the operation."""
    return {
        202: OpenApiResponse(serializer, description="Accepted: the operation is queued; Location is its URL."),
        200: OpenApiResponse(serializer, description="With ?wait=: the operation has finished (see its status)."),
        **errors(*error_codes),
    }
