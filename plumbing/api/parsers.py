"""The API's JSON parser: DRF's, refusing a body nested deeper than any request of the API can be.

The standard library's json recurses once per level: 100,000 opening brackets, sent by anyone with a
token, were a RecursionError and a 500. Every body is now refused past MAX_DEPTH levels with a
sentence, whether the decoder ran out of stack first or the body parsed and is only too deep.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # the deepest request of the API (a run's networks, each with its aliases) is 3
TOO_DEEP = (
    f"The JSON body is nested more than {MAX_DEPTH} levels deep; no request of this API is. Send the fields "
    "as the API's schema (/api/v1/docs/) shows them."
)


def nested_deeper_than(data, limit: int) -> bool:
    """Whether `data` holds a list or an object inside `limit` others (walked level by level, not recursively)."""
    level = [data]
    for _ in range(limit):
        level = [
            child
            for node in level
            if isinstance(node, (dict, list))
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return any(isinstance(node, (dict, list)) for node in level)


class JsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP, code="too_deep") from None
        if nested_deeper_than(data, MAX_DEPTH):
            raise ParseError(TOO_DEEP, code="too_deep")
        return data
