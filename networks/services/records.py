"""The audit entries of the domain's changes: what an operation or a batch of them says was asked for.

A service that queues work records its change with `operation_change_record` (its object is the
network or container acted on; its details the operation's id, target and params, which hold no
secret values) or, for a batch, `operations_change_record`. Both write through
`portal.changes.change_record`, the one record that the audit log and its listeners read.
"""

from __future__ import annotations

from django.db.models import Model

from networks.models import Operation
from plumbing.writes import Writes
from portal.actors import Actor
from portal.changes import change_new, change_record, changes_record
from portal.models import AuditEntry, Tenant


def operation_change_record(
    *, actor: Actor, action: str, operation: Operation, obj: Model | None = None, details: dict | None = None
) -> AuditEntry:
    """Record `action` by `actor` in the operation's tenant; the object is `obj`, else its container or network."""
    return change_record(**_operation_change(actor, action, operation, obj, details))


def operation_changes_record(
    *, actor: Actor, action: str, operations: list[Operation], writes: Writes | None = None
) -> list[AuditEntry]:
    """`operation_change_record` for each of a batch's operations, in one INSERT: one change each. `writes`: the
    INSERT sent among them (`changes_record`)."""
    entries = [change_new(**_operation_change(actor, action, operation)) for operation in operations]
    return changes_record(entries, writes=writes)


def _operation_change(actor: Actor, action: str, operation: Operation, obj=None, details=None) -> dict:
    facts = {"operation": operation.pk, "target": operation.target, **(operation.params or {}), **(details or {})}
    return {
        "actor": actor,
        "action": action,
        "tenant": operation.tenant,
        "obj": obj or operation.container or operation.network,
        "details": facts,
    }


def operations_change_record(
    *,
    actor: Actor,
    action: str,
    tenant: Tenant,
    operations: list[Operation],
    obj: Model | None = None,
    details: dict | None = None,
) -> AuditEntry | None:
    """Record a batch; nothing when the batch is empty and names no object (nothing was there to change)."""
    if not operations and obj is None:
        return None
    facts = {"operations": [operation.pk for operation in operations], **(details or {})}
    return change_record(actor=actor, action=action, tenant=tenant, obj=obj, details=facts)
