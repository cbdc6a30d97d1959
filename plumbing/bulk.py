"""One UPDATE that writes each row's own values of a few fields, as `QuerySet.bulk_update` writes them, built as
plain SQL: bulk_update builds a `Case(When(pk=..., then=Value(...)))` expression per row and field and
resolves each, about 0.1-0.25 ms of CPU a cell; a batch's slice of 25 operations (7 fields) then paid tens of
milliseconds of the worker's CPU for one statement."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Field, Model


def rows_update(rows: Sequence[Model], fields: Sequence[str]) -> int:
    """Write `fields` of `rows` (instances of one model, saved) as they are in memory, in one UPDATE (a few
    on SQLite when the parameters would pass its limit); how many rows were updated. Like bulk_update, it
    neither sends signals nor stamps `auto_now` fields: set them on the rows first.

    Where the database locks rows (PostgreSQL), they are locked in the order of their keys, as every statement
    that locks several rows of a table should: an UPDATE alone takes them in the order its plan visits them
    (the table's, for a few), and two such statements over the same rows in two orders wait for each other
    until the database fails one (a batch's worker and the web stamping its operations sent did). The lock is
    the one the UPDATE itself takes (FOR NO KEY UPDATE on PostgreSQL): a row that refers to one of them may
    still be written meanwhile (its foreign key's check shares the row)."""
    if not rows:
        return 0
    meta = type(rows[0])._meta
    connection = connections[router.db_for_write(type(rows[0]))]
    quote = connection.ops.quote_name
    pk = quote(str(meta.pk and meta.pk.column))
    model_fields = []
    for name in fields:
        field = meta.get_field(name)
        if not isinstance(field, Field):
            raise TypeError(f"{name} is no column of {meta.label}: rows_update writes columns only")
        model_fields.append(field)
    per_row = 2 * len(model_fields) + 1
    size = max(1, (connection.features.max_query_params or per_row * len(rows)) // per_row)
    updated = 0
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        whens = " ".join(["WHEN %s THEN %s"] * len(chunk))
        sets, params = [], []
        for field in model_fields:
            case = f"CASE {pk} {whens} END"
            if connection.features.requires_casted_case_in_updates:  # PostgreSQL types a CASE of literals as text
                case = f"CAST({case} AS {field.cast_db_type(connection)})"
            sets.append(f"{quote(str(field.column))} = {case}")
            for row in chunk:
                params += [row.pk, field.get_db_prep_save(getattr(row, field.attname), connection)]
        params += [row.pk for row in chunk]
        table, marks = quote(meta.db_table), ", ".join(["%s"] * len(chunk))
        rows_of = f"{pk} IN ({marks})"
        if connection.features.has_select_for_update:  # each row locked in the order of its key: see below
            strength = "NO KEY UPDATE" if connection.features.has_select_for_no_key_update else "UPDATE"
            rows_of = f"{pk} IN (SELECT {pk} FROM {table} WHERE {rows_of} ORDER BY {pk} FOR {strength})"
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {rows_of}", params)
            updated += cursor.rowcount
    return updated
