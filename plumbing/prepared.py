"""A hot read's ORM query compiled once, then sent with each request's values.

Building a `values()` queryset and compiling it to SQL cost Django 0.4-0.9 ms of CPU, more than the
database takes to answer a row by its key. `PreparedRows(build)` calls `build` once per process and
database with a stand-in for each named value, compiles the queryset, and from then on sends that SQL
with the caller's values in the stand-ins' places; the rows are decoded by the same compiler (the same
converters; each thread a copy of it bound to its own connection) into the same dicts as `values()` makes.
Once per process, not per thread: a web process's threads start as requests come at once, and a burst of
creates would otherwise each pay the compilation on a new thread. A web process compiles them all before it
serves (`compile_every`), but those that lock. The query stays written once, by the ORM
(tests/plumbing/test_prepared.py checks the two answer alike).

Integer values, each compared as it is (`pk=`, `tenant=`, `first__lte=`), strings for the names given as
`text=` (`key=`, `name=`) and aware datetimes for those given as `moments=`: a stand-in that does not reach
the query's parameters unchanged, or reaches them twice as two different names, is refused when compiling.
Where a datetime reaches it as text (SQLite, `make run`'s database, writes it so), the query is not
compiled: each call runs the ORM's own query, with the same answer.

`PreparedObjects(build)` does the same for a queryset of model instances (with what it `select_related`,
and `select_for_update`: call it inside the transaction): the instances are made from the rows as Django's
own iterable makes them (`from_db`, then each related row's populator).

`PreparedUpdate(build)`: `build` returns a queryset and the values `update()` would be given; calling it
runs that UPDATE (no related model's) and returns the rows it changed, as `update()` does (a save of some
fields with its UPDATE written once: plumbing/saves.py).
"""

from __future__ import annotations

import copy
import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections
from django.db.models import sql as models_sql
from django.db.models.query import get_related_populators

from plumbing.server_prepared import sent_as

# Far outside any id a table holds, one per name.
_STAND_IN = -(2**62)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rewrapped(param, value):
    return type(param)(value) if _integer(param) else value


_every: list[PreparedRows] = []  # every one made (module-level queries), for `compile_every`


def compile_every(using: str = "default") -> None:
    """Compile for database `using`, once per process, every prepared query made so far. Those that lock
    (`select_for_update`: Django compiles them only on a connection, inside a transaction) only when called
    inside a transaction of `using`; outside one they are left to their first use, and nothing connects. A
    web process does it before it serves (portal/webserver.py): its first create compiled eight, about 6 ms
    of CPU, in each process, and the swarm's lock (services/grants.py) about 1.5 ms more, then, in the
    process's ready(), inside a transaction. One that cannot be compiled (wrongly made, or one this database
    cannot run, such as a union of slices on SQLite, whose callers take another way there) is left to its
    first call, which says why."""
    locks_too = connections[using].in_atomic_block
    for prepared in list(_every):
        with prepared.lock:
            if using in prepared.shared:
                continue
            stand_ins = prepared.stand_ins()
            try:
                if locks_too or not prepared.query(stand_ins, using).select_for_update:
                    prepared.shared[using] = prepared.compiled(using, stand_ins)
            except (ImproperlyConfigured, DatabaseError):
                continue


class PreparedRows:
    iterable = "ValuesIterable"

    def __init__(
        self,
        build: Callable[..., Any],
        *names: str,
        text: tuple[str, ...] = (),
        moments: tuple[str, ...] = (),
    ):
        self.build, self.names = build, (*names, *text, *moments)
        self.types: dict[str, type] = {name: int for name in names} | {name: str for name in text}
        self.types |= {name: datetime.datetime for name in moments}
        self.local = threading.local()  # a compiler serves its own thread's connection only: a copy each
        self.lock = threading.Lock()
        self.shared: dict[str, tuple] = {}  # alias: compiled on the first thread's connection
        _every.append(self)

    def stand_ins(self) -> dict[str, Any]:
        """A value for each name that no caller sends: far outside any id, text no request holds, year 1."""
        stand_ins: dict[str, Any] = {}
        for i, (name, kind) in enumerate(self.types.items()):
            if kind is int:
                stand_ins[name] = _STAND_IN - i
            elif kind is str:
                stand_ins[name] = f"\x00{name}:{_STAND_IN}"
            else:
                stand_ins[name] = datetime.datetime(1, 1, 1, 0, 0, 0, i + 1, tzinfo=datetime.UTC)
        return stand_ins

    def query(self, stand_ins: dict[str, Any], alias: str):
        queryset = self.build(**stand_ins).using(alias)
        if queryset._iterable_class.__name__ != self.iterable:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a queryset of {self.iterable}.")
        return queryset.query

    def compiled(self, alias: str, stand_ins: dict[str, Any] | None = None):
        """(sql, params, slots, decoding, keys): `slots[i]` names the value that goes in params[i], if any; None
        where a datetime does not reach the query as it is (SQLite writes it as text). `decoding`: its compiler
        with the converters of its columns (`_Decoding`)."""
        stand_ins = stand_ins or self.stand_ins()
        query = self.query(stand_ins, alias)
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        named = {(type(value) is not int, value): name for name, value in stand_ins.items()}
        # psycopg's backend may wrap a big integer's value in its own int type (Int8): the same value, re-wrapped
        slots = [
            named.get((False, int(param))) if _integer(param) else named.get((True, param))
            if type(param) in (str, datetime.datetime) else None
            for param in params
        ]  # fmt: skip
        missing = set(self.names) - set(filter(None, slots))
        if missing and all(self._as_text(name, stand_ins[name], params, alias) for name in missing):
            return None  # a datetime written as text (SQLite): the ORM's own query at each call (`plain`)
        if missing:
            raise ImproperlyConfigured(f"PreparedRows: not every one of {self.names} reached the query as it is.")
        return sql, params, slots, _Decoding(compiler), self.decoder(query, compiler, alias)

    def _as_text(self, name: str, stand_in, params, alias: str) -> bool:
        """Whether the moment `name` reached the query as the text its database writes a datetime as."""
        if self.types[name] is not datetime.datetime:
            return False
        return connections[alias].ops.adapt_datetimefield_value(stand_in) in params

    def decoder(self, query, compiler, alias: str):
        """What `decode` needs, worked out once from the compiled query: here the values' keys."""
        return list(query.selected or [*query.extra_select, *query.values_select, *query.annotation_select])

    def decode(self, keys, rows) -> list:
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def prepared(self, using: str, values: dict[str, Any]):
        """The compiled query (compiled now if this thread has not yet) and the parameters to send with it;
        None where the query is not compiled."""
        if set(values) != set(self.names) or any(type(value) is not self.types[name] for name, value in values.items()):
            raise TypeError(f"{type(self).__name__} takes {self.types}, got {values!r}.")
        if any(self.types[name] is datetime.datetime and value.tzinfo is None for name, value in values.items()):
            raise TypeError(f"{type(self).__name__} takes aware datetimes, got {values!r}.")
        prepared = getattr(self.local, using, None)
        if prepared is None or prepared[3].connection is not connections[using]:
            prepared = self.for_this_thread(using)
            if prepared is None:
                return None
            setattr(self.local, using, prepared)
        sql, params, slots, compiler, decoder = prepared
        sent = [
            param if slot is None else _rewrapped(param, values[slot])
            for param, slot in zip(params, slots, strict=True)
        ]
        return sent_as(connections[using], sql, sent), sent, compiler, decoder

    def for_this_thread(self, using: str) -> tuple:
        """The query compiled once for the process, its compiler copied onto this thread's connection (its
        converters shared: `_Decoding`)."""
        connection = connections[using]
        with self.lock:
            if using not in self.shared:
                self.shared[using] = self.compiled(using)
            compiled = self.shared[using]
        if compiled is None:
            return None
        sql, params, slots, decoding, decoder = compiled
        return sql, params, slots, decoding.on(connection), decoder

    def plain(self, using: str, values: dict[str, Any]):
        """What a call answers, by the ORM's own query."""
        return list(self.build(**values).using(using))

    def __call__(self, using: str = "default", **values: Any) -> list[Any]:
        prepared = self.prepared(using, values)
        if prepared is None:
            return self.plain(using, values)
        sql, sent, compiler, decoder = prepared
        with connections[using].cursor() as cursor:
            cursor.execute(sql, sent)
            rows = cursor.fetchall()
        return self.decode(decoder, compiler.results(rows))


class _Decoding:
    """A prepared read's compiler, with the converters its `results_iter` would work out again for every answer
    (each column's field asked: ~0.1 ms of CPU for an operation read with its four related rows), worked out
    once per process, when it is compiled: each new thread of a web process worked them out again for its
    first answers, about 0.3 ms of CPU of its first create. A converter is given the connection when it is
    called (`apply_converters`), so every thread shares them; each decodes with a copy of the compiler bound to
    its own connection (`on`)."""

    def __init__(self, compiler):
        self.compiler, self.connection = compiler, compiler.connection
        select = compiler.select  # None for an UPDATE's, which answers no rows
        fields = [column[0] for column in select[0 : compiler.col_count]] if select else []
        # None: composite fields, left to `results_iter` at each answer
        self.converters = None if compiler.has_composite_fields(fields) else compiler.get_converters(fields)

    def on(self, connection) -> _Decoding:
        """This decoding for a thread whose connection is `connection`."""
        if connection is self.connection:
            return self
        own = copy.copy(self)
        own.compiler = copy.copy(self.compiler)
        own.compiler.connection = own.connection = connection
        return own

    def results(self, rows: list):
        """The rows as `results_iter(results=[rows])` gives them."""
        if self.converters is None:
            return self.compiler.results_iter(results=[rows])
        return self.compiler.apply_converters(rows, self.converters) if self.converters else rows


@dataclass
class Read:
    """A prepared read (`PreparedRows` or `PreparedObjects` and its values) to send with others in one round
    trip (`reads_together`); `rows` once it was sent."""

    prepared: PreparedRows
    values: dict[str, Any]
    rows: list | None = None

    def fill(self, prepared: tuple, rows: list) -> None:
        """Its `rows`, decoded from what its statement (`prepared`: `self.prepared.prepared(...)`) answered."""
        _, _, compiler, decoder = prepared
        self.rows = self.prepared.decode(decoder, compiler.results(rows))


def reads_together(*reads: Read, using: str = "default") -> None:
    """Send `reads` in one round trip (psycopg's client-side binding, Django's default, takes several statements
    in one query) and fill in their rows. PostgreSQL runs them in order, each seeing what had committed when it
    began: a read sent after a lock (`select_for_update`) sees what the lock's last holder wrote. Anywhere else
    (SQLite) each is sent alone, in the same order."""
    if not reads:
        return
    if connections[using].vendor != "postgresql":
        for read in reads:
            read.rows = read.prepared(using, **read.values)
        return
    prepared = [read.prepared.prepared(using, read.values) for read in reads]
    with connections[using].cursor() as cursor:
        cursor.execute(
            "; ".join(sql for sql, _, _, _ in prepared), [value for _, sent, _, _ in prepared for value in sent]
        )
        for i, (read, statement) in enumerate(zip(reads, prepared, strict=True)):
            if i:
                cursor.cursor.nextset()
            read.fill(statement, cursor.fetchall())


class PreparedObjects(PreparedRows):
    """PreparedRows for a queryset of model instances: the instances Django's ModelIterable makes of them."""

    iterable = "ModelIterable"

    def decoder(self, query, compiler, alias: str):
        if compiler.annotation_col_map or query.extra_select:
            raise ImproperlyConfigured("PreparedObjects: annotations and extra columns are not decoded.")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]  # stubs: a later Django
        return alias, klass_info["model"], init_list, start, end, populators

    def decode(self, decoder, rows) -> list:
        alias, model, init_list, start, end, populators = decoder
        objects = []
        for row in rows:
            instance = model.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            objects.append(instance)
        return objects


class PreparedUpdate(PreparedRows):
    """An UPDATE compiled once: `build(**stand_ins)` returns (queryset, values) as `queryset.update(**values)`
    would be called; a call runs it and returns how many rows it changed."""

    def query(self, stand_ins: dict[str, Any], alias: str):
        queryset, values = self.build(**stand_ins)
        query = queryset.using(alias).query.chain(models_sql.UpdateQuery)
        query.add_update_values(values)
        query.annotations = {}  # as QuerySet.update: nothing but the values set
        if query.related_updates:
            raise ImproperlyConfigured("PreparedUpdate: an update of another model's fields is not compiled.")
        return query

    def decoder(self, query, compiler, alias: str):
        return None

    def plain(self, using: str, values: dict[str, Any]):
        queryset, changes = self.build(**values)
        return queryset.using(using).update(**changes)

    def statement(self, using: str = "default", **values: Any) -> tuple[str, list]:
        """The UPDATE and its parameters, to be sent with other statements (plumbing/writes.py); compiled for
        these values where it is not compiled once."""
        prepared = self.prepared(using, values)
        if prepared is None:
            sql, params = self.query(values, using).get_compiler(using=using).as_sql()
            return sql, list(params)
        sql, sent, _, _ = prepared
        return sql, sent

    def __call__(self, using: str = "default", **values: Any) -> int:  # type: ignore[override]
        prepared = self.prepared(using, values)
        if prepared is None:
            return self.plain(using, values)
        sql, sent, _, _ = prepared
        with connections[using].cursor() as cursor:
            cursor.execute(sql, sent)
            return cursor.rowcount
