"""The hot statements prepared once per PostgreSQL connection, then sent as `EXECUTE name(values)`.

PostgreSQL parses, analyses and plans every statement it is sent. For the short statements of a create that
is most of its work: those stages took 1.3 of the 2.1 ms PostgreSQL's own statistics gave a web create's
statements (issue 28). A statement prepared (`PREPARE name AS ...`) is parsed once per connection; its EXECUTE
is parsed in microseconds, and after five runs its plan is kept when it is no worse than one made for the
values. A 21-column INSERT and a keyed SELECT cost the backend 0.21-0.35 ms of CPU sent as text, 0.11-0.13 ms
sent as EXECUTEs (3,000 of each pair a turn, 3 turns).

The statements are those compiled once per process already: the prepared reads and UPDATEs
(plumbing/prepared.py) and the one-row INSERTs (plumbing/writes.py). Client-side binding stays (Django's
default with psycopg): psycopg binds the values into the EXECUTE as it bound them into the statement, and
several EXECUTEs still go in one query. `sent_as` prepares a statement on the connection the first time it
is sent there (a round trip of its own, once per statement and connection, on psycopg's connection: not
logged or counted as the caller's query), inside a savepoint when a transaction is open, so that a statement
PostgreSQL cannot prepare (a value whose type it cannot tell) is only sent as text from then on in this
process. A prepared statement outlives a rollback; the connection's list is kept on psycopg's connection
object, which a pool hands out again with its statements, and a new connection starts with none.

Only on PostgreSQL, and not with DATABASE_SERVER_PREPARE=false: a pooler that hands a session's statements
to another server connection (PgBouncer in transaction mode) does not keep them.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import itertools
import logging
import re
import threading
from collections.abc import Sequence

from django.conf import settings

logger = logging.getLogger(__name__)

# The type each value's placeholder is declared with, by the value's Python type: one PostgreSQL could not tell
# from where the placeholder stands (a value in the SELECT list, a UNION's column) would be taken for text.
# Others (text, None, JSON...) are left for PostgreSQL to tell from their column, as it does a quoted literal.
_DECLARED = {
    bool: "boolean",
    int: "bigint",
    float: "double precision",
    decimal.Decimal: "numeric",
    datetime.datetime: "timestamptz",
}
_PLACEHOLDER = re.compile(r"%s|%%")

_lock = threading.Lock()
_names: dict[str, str] = {}  # the statement's SQL: its name, once prepared somewhere in this process
_refused: set[str] = set()  # the SQL PostgreSQL would not prepare: sent as text from then on


def enabled(connection) -> bool:
    return connection.vendor == "postgresql" and settings.DATABASE_SERVER_PREPARE


def sent_as(connection, sql: str, params: Sequence) -> str:
    """What to send in place of `sql` (Django's, with `%s` placeholders, bound to `params`) on `connection`
    (Django's): `EXECUTE name(%s, ...)` with the same values, the statement prepared on the connection first
    when it is not yet; `sql` itself where it is not prepared (another database, DATABASE_SERVER_PREPARE off,
    PostgreSQL refused it)."""
    if not enabled(connection) or sql in _refused:
        return sql
    name = _names.get(sql) or _name(sql)
    connection.ensure_connection()
    raw = connection.connection
    prepared = raw.__dict__.setdefault("_portal_prepared", set())
    if name not in prepared:
        if not _prepare(raw, name, sql, params):
            return sql
        prepared.add(name)
    return f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"


def _name(sql: str) -> str:
    name = "portal_" + hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:20]
    with _lock:
        _names[sql] = name
    return name


def _prepare(raw, name: str, sql: str, params: Sequence) -> bool:
    """PREPARE `sql` as `name` on psycopg's connection `raw`; whether it is prepared there. A statement PostgreSQL
    refuses is never tried again in this process. Inside a transaction, in a savepoint of its own: a refusal
    leaves the transaction as it was. Not on a connection whose transaction has failed already, or that broke:
    the caller's statement then fails as it would have, with Django's error."""
    from psycopg import Error, errors, pq

    if raw.info.transaction_status == pq.TransactionStatus.INERROR:
        return False
    body = _numbered(sql)
    types = ", ".join(_declared(value) for value in params)
    statement = f"PREPARE {name} ({types}) AS {body}" if params else f"PREPARE {name} AS {body}"
    savepoint = not raw.autocommit  # a transaction is open, or opens with this
    try:
        raw.execute(f"SAVEPOINT {name}; {statement}; RELEASE SAVEPOINT {name}" if savepoint else statement)
    except Error as error:  # psycopg's own: Django's wrapper is not in this call
        if raw.broken or raw.closed:
            return False
        if savepoint:
            try:
                raw.execute(f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
            except Error:
                return False
        if isinstance(error, errors.DuplicatePreparedStatement):  # prepared by a call whose end was lost: there
            return True
        logger.warning("A statement is sent as text: PostgreSQL would not prepare it (%s): %s", error, sql[:200])
        with _lock:
            _refused.add(sql)
        return False
    return True


def _numbered(sql: str) -> str:
    """Django's `%s` placeholders numbered as PostgreSQL's (`$1`, `$2`...), its `%%` a `%` again."""
    count = itertools.count(1)
    return _PLACEHOLDER.sub(lambda found: f"${next(count)}" if found.group() == "%s" else "%", sql)


def _declared(value) -> str:
    """The type a value's placeholder is declared with (`_DECLARED`; psycopg's own int types are ints)."""
    for kind, declared in _DECLARED.items():  # bool before int: a bool is an int too
        if isinstance(value, kind):
            return declared
    return "unknown"


_EXECUTE = re.compile(r"EXECUTE (portal_[0-9a-f]{20})")


def readable(sql: str) -> str:
    """`sql` as sent (a log's, a test's captured query) with each EXECUTE of a statement prepared here replaced by
    the statement itself (its values left out: `$1`, `$2`... where they go), for people to read."""
    statements = {name: statement for statement, name in _names.items()}
    parts, at = [], 0
    for found in _EXECUTE.finditer(sql):
        if found.start() < at:
            continue  # inside the values of the EXECUTE before
        statement = statements.get(found.group(1))
        if statement is None:  # not one of this process's
            continue
        parts += [sql[at : found.start()], _numbered(statement)]
        at = _values_end(sql, found.end())
    return "".join([*parts, sql[at:]])


def _values_end(sql: str, at: int) -> int:
    """Where the EXECUTE's values that start at `at` (`(...)`, quoted text with its '' inside) end."""
    if sql[at : at + 1] != "(":
        return at
    depth, quoted = 0, False
    for i in range(at, len(sql)):
        char = sql[i]
        if char == "'":
            quoted = not quoted  # '' inside quotes toggles twice
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(sql)
