"""A hot read's ORM query compiled once, then sent with each request's values.

Building a `values()` queryset and compiling it to SQL cost Django 0.4-0.9 ms of CPU, more than the
database takes to answer a row by its key. `PreparedRows(build)` calls `build` once per thread and
database with a stand-in for each named value, compiles the queryset, and from then on sends that SQL
with the caller's values in the stand-ins' places; the rows are decoded by the same compiler (the same
converters) into the same dicts as `values()` makes. The query stays written once, by the ORM
(tests/plumbing/test_prepared.py checks the two answer alike).

Integer values, each compared as it is (`pk=`, `tenant=`, `first__lte=`), and strings for the names given as
`text=` (`key=`, `name=`): a stand-in that does not reach the query's parameters unchanged, or reaches them
twice as two different names, is refused when compiling.

`PreparedObjects(build)` does the same for a queryset of model instances (with what it `select_related`,
and `select_for_update`: call it inside the transaction): the instances are made from the rows as Django's
own iterable makes them (`from_db`, then each related row's populator).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

# Far outside any id a table holds, one per name.
_STAND_IN = -(2**62)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class PreparedRows:
    iterable = "ValuesIterable"

    def __init__(self, build: Callable[..., QuerySet], *names: str, text: tuple[str, ...] = ()):
        self.build, self.names, self.text = build, (*names, *text), text
        self.local = threading.local()  # a compiler serves its own thread's connection only

    def compiled(self, alias: str):
        """(sql, params, slots, compiler, keys): `slots[i]` names the value that goes in params[i], if any."""
        stand_ins: dict[str, int | str] = {name: _STAND_IN - i for i, name in enumerate(self.names)}
        stand_ins.update({name: f"\x00{name}:{_STAND_IN}" for name in self.text})  # no text a request sends
        queryset = self.build(**stand_ins).using(alias)
        query = queryset.query
        if queryset._iterable_class.__name__ != self.iterable:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a queryset of {self.iterable}.")
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        named = {value: name for name, value in stand_ins.items()}
        # psycopg's backend may wrap a big integer's value in its own int type (Int8): the same value, re-wrapped
        slots = [
            named.get(int(param)) if _integer(param) else named.get(param) if type(param) is str else None
            for param in params
        ]
        if set(filter(None, slots)) != set(self.names):
            raise ImproperlyConfigured(f"PreparedRows: not every one of {self.names} reached the query as it is.")
        return sql, params, slots, compiler, self.decoder(query, compiler, alias)

    def decoder(self, query, compiler, alias: str):
        """What `decode` needs, worked out once from the compiled query: here the values' keys."""
        return list(query.selected or [*query.extra_select, *query.values_select, *query.annotation_select])

    def decode(self, keys, rows) -> list:
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def __call__(self, using: str = "default", **values: int | str) -> list[Any]:
        prepared = getattr(self.local, using, None)
        if prepared is None or prepared[3].connection is not connections[using]:
            prepared = self.compiled(using)
            setattr(self.local, using, prepared)
        sql, params, slots, compiler, decoder = prepared
        if set(values) != set(self.names) or any(
            type(value) is not (str if name in self.text else int) for name, value in values.items()
        ):
            raise TypeError(f"PreparedRows takes {self.names} (strings: {self.text}), got {values!r}.")
        sent = [param if slot is None else type(param)(values[slot]) for param, slot in zip(params, slots, strict=True)]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, sent)
            rows = cursor.fetchall()
        return self.decode(decoder, compiler.results_iter(results=[rows]))


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
