"""The one record of each change: the audit entry a service writes, handed to whoever listens once it commits.

Services call `change_record(actor=..., action=..., tenant=...)` inside the transaction that makes the
change, so a change that rolls back leaves no entry and tells nobody. After the commit, every
callback registered with `subscribe(callback)` gets the entry (the audit log is the entry itself). A
callback that fails is logged and the others still hear of the change.

An outbox writes its rows beside the entry, in the same transaction: `subscribe_in_transaction(callback)`
is called with the entries as they are written (one, or a batch's all at once: outgoing webhooks record
their deliveries there), so the change and what must be sent of it commit or roll back together. Such a
callback's failure fails the change.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Model

from plumbing.prepared import Read, reads_together
from plumbing.writes import Writes

from .actors import Actor
from .audit import audit_details
from .models import AuditEntry, Tenant

logger = logging.getLogger(__name__)
Listener = Callable[[AuditEntry], None]
Recorder = Callable[[list[AuditEntry]], None]
OBJECT_REPR_MAX_LENGTH = 200  # the audit log's column

listeners: list[Listener] = []
recorders: list[Recorder] = []
foreseers: dict[Recorder, Callable[[Tenant], object]] = {}
_foreseen: contextvars.ContextVar[tuple[int, dict] | None] = contextvars.ContextVar("foreseen", default=None)


def subscribe_in_transaction(callback: Recorder, *, foresee: Callable[[Tenant], object] | None = None) -> Recorder:
    """Be called with the entries inside the transaction that records them (an outbox's rows go there):
    `[entry]` for one change, a batch's entries together for `changes_record`. `foresee(tenant)`: what the
    callback reads of a team, read ahead by `changes_foreseen` (a `Read`: its rows, sent with others); where it
    read nothing (no rows), the callback has nothing to record of that team's changes and is not called."""
    if callback not in recorders:
        recorders.append(callback)
    if foresee is not None:
        foreseers[callback] = foresee
    return callback


@contextlib.contextmanager
def changes_foreseen(*, tenant: Tenant, send: Callable[..., None] = reads_together):
    """The team's changes are recorded in this block under a lock that others wait for (a swarm's): what the
    outboxes read of the team (its webhook endpoints) is read now, before it, and used as they record them.
    `send(*reads)`: sends the prepared reads among them (by default together, `reads_together`), such as with
    the caller's own statements in one round trip (plumbing/writes.py `Writes.reserve`)."""
    ahead = {callback: foresee(tenant) for callback, foresee in foreseers.items()}
    send(*[read for read in ahead.values() if isinstance(read, Read)])
    ahead = {callback: read.rows if isinstance(read, Read) else read for callback, read in ahead.items()}
    token = _foreseen.set((tenant.pk, ahead))
    try:
        yield
    finally:
        _foreseen.reset(token)


def foreseen(callback: Recorder, tenant_id: int) -> tuple[bool, object]:
    """(True, what `changes_foreseen` read for `callback`) in its block, for its team; (False, None) elsewhere."""
    ahead = _foreseen.get()
    if ahead is None or ahead[0] != tenant_id or callback not in ahead[1]:
        return False, None
    return True, ahead[1][callback]


def subscribe(callback: Listener) -> Listener:
    """Hear of every change once it has committed; returns the callback, so it can decorate a function."""
    if callback not in listeners:
        listeners.append(callback)
    return callback


def unsubscribe(callback: Listener) -> None:
    if callback in listeners:
        listeners.remove(callback)


def tell_listeners(entry: AuditEntry) -> None:
    for callback in list(listeners):
        try:
            callback(entry)
        except Exception:  # one listener's fault never hides the change from the others
            logger.exception("a change listener failed on %s %s", entry.action, entry.object_id)


def change_record(**fields) -> AuditEntry:
    """Record one change (`change_new`'s fields) and tell whoever listens."""
    entry = change_new(**fields)
    entry.save(force_insert=True)
    _recorded([entry])
    return entry


def change_new(
    *,
    actor: Actor,
    action: str,
    tenant: Tenant | None,
    obj: Model | None = None,
    details: dict | None = None,
    object_id=None,
    object_repr: str | None = None,
) -> AuditEntry:
    """One change by `actor` in `tenant`'s log (None: staff and system changes that belong to no team), as
    `change_record` records it, not saved yet (a batch records its changes together: `changes_record`).

    `details` is what was asked for; any key that names a secret is dropped (portal/audit.py).
    `object_id` and `object_repr` default to the object's; pass them for an object already deleted.
    """
    return AuditEntry(
        user=actor.user,
        actor=actor.name,
        token_name=actor.token_name,
        token_prefix=actor.token_prefix,
        tenant=tenant,
        tenant_name=tenant.name if tenant else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(object_id if object_id is not None else getattr(obj, "pk", None) or ""),
        object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[
            :OBJECT_REPR_MAX_LENGTH
        ],
        details=audit_details(details),
        address=actor.address,
    )


def changes_record(entries: list[AuditEntry], *, writes: Writes | None = None) -> list[AuditEntry]:
    """Record several changes (from `change_new`) in one INSERT; each is one change, told as `change_record`
    tells it. `writes`: the INSERT added to them (plumbing/writes.py), and the outboxes' recorders, which may
    read what the change made, called once they are sent (in the context of this call: `changes_foreseen`)."""
    if writes is None:
        AuditEntry.objects.bulk_create(entries)
        _recorded(entries)
        return entries
    writes.insert(entries)
    busy = [recorder for recorder in recorders if not _nothing_to_record(recorder, entries)]
    if busy:
        context = contextvars.copy_context()
        writes.then(lambda: context.run(_recorded, entries, busy))
    else:
        _recorded(entries, busy)  # nothing waits for the rows: the transaction may end with them (`send(commit=True)`)
    return entries


def _nothing_to_record(recorder: Recorder, entries: list[AuditEntry]) -> bool:
    """Whether `changes_foreseen` read, for `recorder`, nothing of the team of each of `entries` (a team without
    webhook endpoints): then it has nothing to record of them, and is not called."""
    for entry in entries:
        ahead, rows = foreseen(recorder, entry.tenant_id) if entry.tenant_id is not None else (False, None)
        if not ahead or rows:
            return False
    return True


def _recorded(entries: list[AuditEntry], called: list[Recorder] | None = None) -> None:
    for recorder in list(recorders) if called is None else called:
        recorder(entries)
    if listeners:  # listeners subscribe when their app loads; with none, nothing waits for the commit
        for entry in entries:
            transaction.on_commit(functools.partial(tell_listeners, entry))
