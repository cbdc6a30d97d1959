"""The audit log's rules and its file: which details are never kept, and the entries as CSV.

Entries are written by the services that make each change, through `portal.changes.change_record`
(who acted is a `portal.actors.Actor`). Services pass what was asked for as `details`, never secret
values: `audit_details` drops any key that names a secret, as a second guard.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

SECRET_WORDS = ("password", "secret", "key", "token", "environment", "env", "value")


def audit_details(details: dict | None) -> dict:
    """What was asked for, without anything whose name says it may be a secret."""
    return {
        name: value
        for name, value in (details or {}).items()
        if not any(word in str(name).lower() for word in SECRET_WORDS)
    }


CSV_COLUMNS = [
    "created",
    "actor",
    "token_name",
    "token_prefix",
    "tenant_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "details",
    "address",
]


def audit_csv(rows: Iterable[dict]) -> str:
    """The entries (as the API shows them) as CSV, one line each, the columns of CSV_COLUMNS."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        row = {**row, "details": json.dumps(row.get("details") or {}, sort_keys=True)}
        writer.writerow({name: _inert(value) for name, value in row.items()})
    return out.getvalue()


def _inert(value):
    """A cell a spreadsheet shows as text: names people chose may start like a formula (=, +, -, @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
