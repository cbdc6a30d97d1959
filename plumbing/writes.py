"""A transaction's INSERTs and UPDATEs gathered and sent to PostgreSQL in one round trip.

Each statement a request sends costs it a round trip, and, on a busy machine, a wait for a core and for its
process's interpreter when the answer comes: about 0.4 ms each for a create one at a time, several times that
with 50 at once. Where every writer waits for one lock (a swarm's allocations), those waits add up for all.

`Writes().reserve(*models)` takes a new primary key for one row of each model, in one statement (a sequence
answers at once, whoever holds what lock: take them before the lock); `reads=` prepared reads
(plumbing/prepared.py) sent before it in the same round trip. `insert(rows)` gives each row without one the key
reserved for its model and compiles its INSERT as `bulk_create` would (Django's compiler: `auto_now` stamped,
values prepared, no signals) without RETURNING; a single row of plain values takes the SQL compiled for its
model's first such row, its values prepared as the compiler prepares them. `add(sql, params)` adds any other
statement; `then(callback)` waits for them to be sent (an outbox that reads the rows); `send()` sends them all
in one execute (psycopg's client-side binding, Django's default, takes several statements in one query;
PostgreSQL runs them in order in the transaction), and `send(commit=True)` the COMMIT of the transaction they
end with them. Each statement is bound on its own (`mogrify`) and the query
sent bound: psycopg keeps the parsing of a short statement's placeholders, not that of a query over 4 KB or 50
parameters, which it parsed again on every send (about 0.5 ms of CPU for a create's). A row's key is known as
soon as it is inserted, so the rows that refer to it can be built before anything is sent. Anywhere else
(SQLite), each is written at once, as `bulk_create` and `execute` write it, and `send()` has nothing left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import connections, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery

from plumbing.prepared import Read, reads_together
from plumbing.server_prepared import sent_as

# A one-row INSERT's SQL per (model, key given, database), as Django's compiler wrote it for a row of plain values
# (`_plain`): the same for every such row. Compiling it cost each create's four rows ~0.2 ms of CPU.
_compiled: dict[tuple, str] = {}


def _plain(fields: list, row: Model) -> bool:
    """Whether each of `row`'s values has the plain `%s` placeholder in Django's INSERT (no field with its own
    placeholder, no expression)."""
    return not any(
        hasattr(field, "get_placeholder")
        or hasattr(value := getattr(row, field.attname), "resolve_expression")
        or hasattr(value, "as_sql")
        for field in fields
    )


class Writes:
    def __init__(self, using: str = "default"):
        self.using = using
        self.together = connections[using].vendor == "postgresql"
        self.keys: dict[type[Model], list[int]] = {}
        self.statements: list[tuple[str, Sequence]] = []
        self.after: list[Callable[[], None]] = []

    def reserve(self, *models: type[Model], reads: Sequence[Read] = ()) -> None:
        """Take a new primary key for one row of each of `models`, in one statement; `reads` (their rows filled
        in) sent first, in order, in the same round trip (apart where the keys are not taken first)."""
        if not (self.together and models):
            reads_together(*reads, using=self.using)
            return
        connection = connections[self.using]
        quote = connection.ops.quote_name
        keys = ", ".join(["nextval(pg_get_serial_sequence(%s, %s))"] * len(models))
        params = [value for model in models for value in (quote(model._meta.db_table), model._meta.pk.column)]
        statements = [read.prepared.prepared(self.using, read.values) for read in reads]
        sql = "; ".join([*(statement[0] for statement in statements), sent_as(connection, f"SELECT {keys}", params)])
        with connection.cursor() as cursor:
            cursor.execute(sql, [*(value for statement in statements for value in statement[1]), *params])
            for read, statement in zip(reads, statements, strict=True):
                read.fill(statement, cursor.fetchall())
                cursor.cursor.nextset()
            row = cursor.fetchone()
        for model, key in zip(models, row, strict=True):
            self.keys.setdefault(model, []).append(key)

    def insert(self, rows: Sequence[Model]) -> None:
        """Insert `rows` (instances of one model), each given a key reserved for its model if it has none. Rows
        with no key reserved for them are written with the table's own, which they do not learn (all or none)."""
        if not rows:
            return
        model = type(rows[0])
        if not self.together:
            model._default_manager.using(self.using).bulk_create(rows)
            return
        for row in rows:
            if row.pk is None and self.keys.get(model):
                row.pk = self.keys[model].pop(0)
            row._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]  # as bulk_create
        keyed = [row.pk is not None for row in rows]
        if any(keyed) and not all(keyed):
            raise ValueError(f"Writes: keys reserved for some of these {model.__name__} rows only; reserve one each.")
        meta = model._meta
        fields = [field for field in meta.local_concrete_fields if not field.generated]
        if not keyed[0]:
            fields = [field for field in fields if field is not meta.auto_field]
        if not (len(rows) == 1 and self._insert_compiled((model, keyed[0], self.using), fields, rows[0])):
            query = InsertQuery(model)
            query.insert_values(fields, list(rows), raw=False)
            compiled = query.get_compiler(using=self.using).as_sql()
            for sql, params in compiled:
                self.add(sql, params)
            if len(rows) == 1 and _plain(fields, rows[0]) and len(compiled) == 1 and len(compiled[0][1]) == len(fields):
                _compiled[(model, keyed[0], self.using)] = compiled[0][0]
        if keyed[0]:
            for row in rows:
                row._state.adding, row._state.db = False, self.using

    def _insert_compiled(self, key: tuple, fields: list, row: Model) -> bool:
        """Add one row's INSERT with the SQL Django compiled for its model before (`_compiled`), its values as
        Django's compiler prepares them (each field's `pre_save`, then `get_db_prep_save`); False when there is
        none yet, or a value is an expression (Django's compiler then writes it)."""
        sql = _compiled.get(key)
        if sql is None:
            return False
        values = [field.pre_save(row, True) for field in fields]
        if any(hasattr(value, "resolve_expression") or hasattr(value, "as_sql") for value in values):
            return False
        connection = connections[self.using]
        params = [
            field.get_db_prep_save(value, connection=connection) for field, value in zip(fields, values, strict=False)
        ]
        self.add(sent_as(connection, sql, params), params)  # prepared once per connection (plumbing/server_prepared.py)
        return True

    def add(self, sql: str, params: Sequence) -> None:
        """Add a statement (one of `%s` placeholders and its parameters) to those sent together."""
        if not self.together:
            with connections[self.using].cursor() as cursor:
                cursor.execute(sql, params)
            return
        self.statements.append((sql, params))

    def then(self, callback: Callable[[], None]) -> None:
        """Call `callback` once what was gathered so far has been sent (at once where nothing is gathered)."""
        if not self.together:
            callback()
            return
        self.after.append(callback)

    def send(self, *, commit: bool = False) -> None:
        """Send what was gathered, in one round trip, then call what waited for it (`then`), in order.

        `commit`: the caller's transaction ends with these statements (nothing is sent in it after them), so the
        COMMIT goes with them when that transaction is the outermost atomic block (`ends_here`) and no callback
        waits to run in it (`then`: an outbox's rows written once these are; not then): one round trip
        less, and a lock taken in it (a swarm's allocations) is let go one trip sooner. Django's own commit at
        the block's end then finds the connection idle and sends nothing (psycopg's `commit()` does not), and
        runs the block's on-commit callbacks as ever. A statement that fails skips the COMMIT after it: the
        transaction is rolled back as before."""
        statements, after = self.statements, self.after
        self.statements, self.after = [], []
        if statements:
            connection = connections[self.using]
            with transaction.mark_for_rollback_on_error(self.using), connection.cursor() as cursor:
                bind = cursor.cursor.mogrify  # psycopg's ClientCursor: each statement's parsing is kept
                sql = "; ".join(bind(sql, params) for sql, params in statements)
                ends = commit and not after and ends_here(connection)  # nothing waits to run in the transaction
                cursor.execute(f"{sql}; COMMIT" if ends else sql)
        for callback in after:
            callback()


def ends_here(connection) -> bool:
    """Whether a COMMIT sent now ends the outermost atomic block of `connection` and nothing else: it is the
    only block open (not one nested in a test's or a caller's transaction, where it would end theirs too)."""
    return connection.in_atomic_block and len(connection.atomic_blocks) == 1 and not connection.needs_rollback
