"""Reading ids people and scripts type: only ASCII digits that fit a database id are ids.

`"²".isdigit()` is true and `int("9" * 30)` overflows the database's integer: both were 500s.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


def parse_id(text) -> int | None:
    """The id `text` names, or None when it names none (empty, not digits, too large, zero)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
