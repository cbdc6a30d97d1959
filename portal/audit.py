"""The audit log: one function records who changed what, for which tenant, when and from where.

Views and API views call `audit_record` where a person or a token asked for a change (the request
says who and from where); management commands pass `actor="manage.py"`; the admin records through
`AuditedAdminMixin` (portal/admin.py). Callers pass what was asked for as `details`, never secret
values: `audit_details` drops any key that names a secret, as a second guard.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from django.db.models import Model

from .addresses import client_address
from .models import ApiToken, AuditEntry, Tenant

COMMAND_LINE = "manage.py"
SECRET_WORDS = ("password", "secret", "key", "token", "environment", "env", "value")


def audit_details(details: dict | None) -> dict:
    """What was asked for, without anything whose name says it may be a secret."""
    return {
        name: value
        for name, value in (details or {}).items()
        if not any(word in str(name).lower() for word in SECRET_WORDS)
    }


def _who(request, actor: str | None) -> dict:
    if request is None:
        return {"user": None, "actor": actor or COMMAND_LINE}
    user = getattr(request, "user", None)
    user = user if user is not None and user.is_authenticated else None
    token = getattr(request, "auth", None)  # DRF's request: the ApiToken the key matched
    who = {"user": user, "actor": actor or (user.get_username() if user else "anonymous")}
    if isinstance(token, ApiToken):
        who.update(token_name=token.name, token_prefix=token.prefix)
    return who


def audit_record(
    *,
    action: str,
    request=None,
    actor: str | None = None,
    obj: Model | None = None,
    object_id=None,
    object_repr: str | None = None,
    tenant: Tenant | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Record one change. `request` says who and from where; without one, `actor` (default "manage.py").

    `object_id` and `object_repr` default to the object's; pass them for an object already deleted.
    """
    return AuditEntry.objects.create(
        **_who(request, actor),
        tenant=tenant,
        tenant_name=tenant.name if tenant else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(object_id if object_id is not None else getattr(obj, "pk", None) or ""),
        object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:200],
        details=audit_details(details),
        address=client_address(request)[:64] if request is not None else "",
    )


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
