"""Reading what people and scripts type: ids, and text that its database column can hold.

`"²".isdigit()` is true and `int("9" * 30)` overflows the database's integer: both were 500s. So were
a NUL character (PostgreSQL's text cannot hold one), a lone surrogate in a JSON key (nor can its
jsonb) and text longer than its column: forms and serializers refuse them with these sentences before
the database sees them (plumbing/forms.py, plumbing/api/fields.py).
"""

from __future__ import annotations

import re

from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxLengthValidator

MAX_ID = 2**63 - 1

NUL_REFUSED = "This field contains a NUL character (\\x00), which the portal cannot store. Remove it."
SURROGATE_REFUSED = (
    "This field contains a lone surrogate (\\ud800 to \\udfff), which is not text the portal can store. Send it "
    "as UTF-8."
)
TOO_LONG = "This field takes at most %(limit_value)d characters (it has %(show_value)d)."
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_id(text) -> int | None:
    """The id `text` names, or None when it names none (empty, not digits, too large, zero)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def unstorable(value) -> tuple[str, str] | None:
    """Why `value` (text, or lists and objects of text, keys included) cannot be stored, as (code, sentence);
    None when it can."""
    if isinstance(value, str):
        if "\x00" in value:
            return "nul_character", NUL_REFUSED
        return ("surrogate_character", SURROGATE_REFUSED) if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        parts: list | tuple = [part for pair in value.items() for part in pair]
    elif isinstance(value, (list, tuple)):
        parts = value
    else:
        return None
    return next((reason for reason in map(unstorable, parts) if reason), None)


def storable(value):
    """`value` (text, or lists and objects of text, keys included) with what no column can hold written out
    as an escape instead: a NUL as `\\x00`, a lone surrogate as `\\udxxx`. For answers that echo what was
    sent and are kept (a batch's answer with an Idempotency-Key): the echo stays readable, the row storable."""
    if isinstance(value, str):
        if unstorable(value) is None:
            return value
        return value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()
    if isinstance(value, dict):
        return {storable(key): storable(part) for key, part in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(part) for part in value]
    return value


def column_max_length(model, name: str) -> int | None:
    """The most characters `model`'s column `name` holds; None when it has no such column or no limit."""
    try:
        return getattr(model._meta.get_field(name), "max_length", None)
    except FieldDoesNotExist:
        return None


def bound_by_column(field, limit: int) -> None:
    """Give a form or serializer text field its column's limit, with TOO_LONG in place of any other."""
    field.max_length = limit
    field.validators[:] = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.validators.append(MaxLengthValidator(limit, message=TOO_LONG))
