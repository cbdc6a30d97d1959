"""What counts as a database fault (a wait, not a failure), and starting again on fresh connections.

A failover or a restart of PostgreSQL ends every open connection: the next query on one raises
OperationalError ("terminating connection due to administrator command", "server closed the
connection unexpectedly"), and each query after it InterfaceError ("connection already closed"),
until the connection is closed and a new one is opened. OperationalError is also what PostgreSQL
answers for a deadlock's victim, a cancelled statement or a lock it waited too long for: all of
them are the database's state at that moment, not something wrong with what was asked, so each is
worth trying again. IntegrityError, DataError and ProgrammingError are not: they say what the
request itself did.
"""

from __future__ import annotations

import select
import sqlite3

from django.db import InterfaceError, OperationalError, connections

DATABASE_FAULTS = (OperationalError, InterfaceError)


def is_database_fault(error: BaseException) -> bool:
    return isinstance(error, DATABASE_FAULTS)


# PostgreSQL's SQLSTATE for a statement that waited for a lock longer than its lock_timeout (lock_not_available).
LOCK_NOT_AVAILABLE = "55P03"


def is_lock_wait_given_up(error: BaseException) -> bool:
    """A statement that waited for a lock longer than its connection allows: PostgreSQL's lock_timeout
    (DATABASE_LOCK_TIMEOUT, settings.py) or SQLite's busy timeout. The database answers; another session
    holds a record this one needs. The statement's transaction is rolled back, so what it did is undone."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        return True
    return (
        isinstance(cause, sqlite3.OperationalError) and getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
    )


def reconnect() -> None:
    """Close this thread's connections (with a pool: give them back, which discards a broken one), so
    the next query opens a fresh one. One inside a transaction is left to whoever holds it: closing
    it would end their transaction under them (a broken one fails them again, and they leave)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def health_checks_by_socket() -> None:
    """Spare the round trip (SELECT 1) of Django's health check (CONN_HEALTH_CHECKS) for the kept PostgreSQL
    connections whose socket has nothing to read: one the server ended (a restart, a failover,
    pg_terminate_backend) has its notice or its end waiting there, and keeps the check. An idle connection
    of a healthy server is sent nothing. Call it where Django resets the check (close_old_connections)."""
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        # Django's own flags (its stubs do not name them)
        if raw is None or connection.vendor != "postgresql" or not connection.health_check_enabled:  # type: ignore[attr-defined]
            continue
        if connection.health_check_done:  # type: ignore[attr-defined]
            continue
        try:
            waiting, _, _ = select.select([raw.fileno()], [], [], 0)
        except (OSError, ValueError):  # closed under us: the check finds out
            continue
        if not waiting:
            connection.health_check_done = True  # type: ignore[attr-defined]
