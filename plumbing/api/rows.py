"""Answers made from plain rows (`QuerySet.values()`), with the fields a ModelSerializer declares.

A page of a thousand networks as model objects, each with its cluster, team and user, cost more than
the rest of the request put together, and DRF's generic walk over each object's fields cost half as
much again. A RowSerializer declares its fields once, as any ModelSerializer does (the schema is made
from them); the query reads only the columns they name (`columns()`), and each field formats its
column's value with its own `to_representation`.

On PostgreSQL `values_arguments()` reads two kinds of column as text, which a page of a thousand rows
otherwise spent a fifth of its time parsing: JSON columns (decoded by orjson, not by Django's
`json.loads` per value) and times a field writes in UTC (as the text that field writes, not parsed into
a datetime and written again). The answer is the same either way (tests/plumbing/test_rows.py).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import orjson
from django.db import connection, models
from rest_framework import ISO_8601, serializers
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings


def _kept_as_is(field: serializers.Field) -> type | None:
    """The type of value the field's `to_representation` answers unchanged (`object`: any value), if any.

    Checked on the method itself, so a subclass that formats differently is formatted by its method."""
    method = type(field).to_representation
    if method is serializers.PrimaryKeyRelatedField.to_representation:  # its pk, which is what a row holds
        return object if field.pk_field is None else None
    if method is serializers.JSONField.to_representation:
        return None if field.binary else object
    if method in (serializers.CharField.to_representation, serializers.IPAddressField.to_representation):
        return str
    if method is serializers.BigIntegerField.to_representation:  # unless told to answer strings
        return None if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING) else int
    if method is serializers.ChoiceField.to_representation:  # a plain string key is answered as itself
        return str if all(type(key) is str for key in field.choice_strings_to_values.values()) else None
    return {serializers.IntegerField.to_representation: int, serializers.BooleanField.to_representation: bool}.get(
        method
    )


def _utc_iso(field: serializers.DateTimeField):
    """How `field` shows a time, faster for the times the database answers in UTC; None unless the field
    writes ISO 8601 in UTC, as DateTimeField(default_timezone=datetime.UTC) does: what DRF writes then
    (its `isoformat()`, `Z` for `+00:00`), without DRF's look-ups of settings and time zones per value."""
    if type(field).to_representation is not serializers.DateTimeField.to_representation:
        return None
    iso = str(getattr(field, "format", api_settings.DATETIME_FORMAT) or "").lower() == ISO_8601
    if not iso or getattr(field, "timezone", None) is not datetime.UTC:
        return None

    def show(value, slow=field.to_representation):
        if type(value) is datetime.datetime and value.tzinfo is datetime.UTC:
            return value.isoformat()[:-6] + "Z"
        if type(value) is str:  # read as this text already (`UtcIsoText`)
            return value
        return slow(value)

    show.utc_iso = True  # type: ignore[attr-defined]  # what text_columns() looks for
    return show


class JsonText(models.Func):
    """A jsonb column as its text (PostgreSQL)."""

    template = "(%(expressions)s)::text"
    output_field = models.TextField()


class UtcIsoText(models.Func):
    """A time as DRF's DateTimeField writes it in UTC (PostgreSQL): `isoformat()` of the UTC time, with
    microseconds only when there are some, and `Z`."""

    template = (
        "replace(to_char((%(expressions)s) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'"
    )
    output_field = models.TextField()


def json_loads(text: str | None):
    """What Django's JSONField decodes from the database's text, by orjson (json for what orjson refuses,
    such as integers past 64 bits)."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class RowSerializer(serializers.ModelSerializer):
    """Serializes rows of `Model.objects.values(*cls.columns())`, not model objects.

    A field's column is its source with `__` for its dots (`cluster.name` reads `cluster__name`); a
    SerializerMethodField's `get_<name>(row)` reads the row, and `Meta.method_columns` names the
    further columns such methods read. Selectors may add more keys to a row (related rows).
    """

    @classmethod
    def row_plan(cls) -> list[tuple[str, str | None, Any, type | None]]:
        """(name, column, how to show its value, the type of value shown as it is) per field, in the
        fields' order; a method field has no column and names its method. Made once per class: a field's
        formatting does not depend on the request."""
        if "_row_plan" not in cls.__dict__:
            plan: list[tuple[str, str | None, Any, type | None]] = []
            for name, field in cls().fields.items():
                if field.write_only:
                    continue
                if isinstance(field, serializers.SerializerMethodField):
                    plan.append((name, None, field.method_name, None))
                    continue
                show = (
                    _utc_iso(field) if isinstance(field, serializers.DateTimeField) else None
                ) or field.to_representation
                if isinstance(field, serializers.RelatedField):  # values() reads the related object's pk

                    def show(pk, field=field):
                        return field.to_representation(PKOnlyObject(pk))

                plan.append((name, field.source.replace(".", "__"), show, _kept_as_is(field)))
            cls._row_plan = plan
        return cls._row_plan

    @classmethod
    def text_columns(cls) -> dict[str, tuple[str, Any]]:
        """{alias: (column, expression)}: the model's own JSON columns shown as they are, and its times
        shown in UTC, read as text on PostgreSQL (`values_arguments`); none elsewhere."""
        if "_text_columns" not in cls.__dict__:
            texts: dict[str, tuple[str, models.Func]] = {}
            if connection.vendor == "postgresql":
                for _, column, show, as_is in cls.row_plan():
                    if column is None or "__" in column:
                        continue
                    model_field = cls.Meta.model._meta.get_field(column)
                    if isinstance(model_field, models.JSONField) and as_is is object:
                        texts[f"{column}_as_text"] = (column, JsonText(column))
                    elif isinstance(model_field, models.DateTimeField) and getattr(show, "utc_iso", False):
                        texts[f"{column}_as_text"] = (column, UtcIsoText(column))
            cls._text_columns = texts
        return cls._text_columns

    @classmethod
    def values_arguments(cls) -> tuple[list[str], dict[str, Any]]:
        """`values(*names, **expressions)` for the rows: `columns()`, those of `text_columns` as text."""
        texts = cls.text_columns()
        as_text = {column for column, _ in texts.values()}
        names = [column for column in cls.columns() if column not in as_text]
        return names, {alias: expression for alias, (column, expression) in texts.items()}

    @classmethod
    def columns(cls) -> list[str]:
        """The columns to read (for `values()`): the fields' own, then those their methods read."""
        own = [column for _, column, _, _ in cls.row_plan() if column is not None]
        return own + [column for column in getattr(cls.Meta, "method_columns", []) if column not in own]

    @classmethod
    def answer_source(cls) -> str:
        """The source of `answerer(json_loads, s0, t0, m0, ...)`, which gives the function that answers one
        row: the columns read as text put back in their place (a JSON column decoded, a time kept), then the
        answer as one dict display, field by field in the fields' order: a value of the type its field
        keeps as it is (`t<i>`) or None taken as it is, any other shown by the field (`s<i>`), a method
        field's method (`m<i>`) called with the row.

        Written out once per class, as dataclasses write their `__init__`: a page of a thousand rows spent
        as long walking the plan field by field, value by value, as the values took to show."""
        lines = ["def answerer(json_loads, " + ", ".join(cls._answer_names()) + "):", "    def answer(row):"]
        for alias, (target, expression) in cls.text_columns().items():
            text = f"row.pop({alias!r})"
            lines.append(f"        if {alias!r} in row:")
            lines.append(
                f"            row[{target!r}] = {f'json_loads({text})' if type(expression) is JsonText else text}"
            )
        lines.append("        return {")
        for index, (name, column, _, as_is) in enumerate(cls.row_plan()):
            if column is None:
                value = f"m{index}(row)"
            elif as_is is object:
                value = f"row[{column!r}]"
            elif as_is is None:
                value = f"None if (v := row[{column!r}]) is None else s{index}(v)"
            else:
                value = f"v if (v := row[{column!r}]) is None or type(v) is t{index} else s{index}(v)"
            lines.append(f"            {name!r}: {value},")
        lines += ["        }", "    return answer"]
        return "\n".join(lines) + "\n"

    @classmethod
    def _answer_names(cls) -> list[str]:
        names = []
        for index, (_, column, _, as_is) in enumerate(cls.row_plan()):
            if column is None:
                names.append(f"m{index}")
            elif as_is is not object:
                names += [f"s{index}"] + ([f"t{index}"] if as_is is not None else [])
        return names

    @classmethod
    def answerer(cls):
        """`answer_source` compiled, once per class (a web process does it before it serves: portal/webserver.py)."""
        if "_answerer" not in cls.__dict__:
            namespace: dict[str, Any] = {}
            exec(compile(cls.answer_source(), f"<{cls.__qualname__}.answer>", "exec"), namespace)  # noqa: S102
            cls._answerer = namespace["answerer"]
        return cls._answerer

    def to_representation(self, row: dict) -> dict:
        answer = self.__dict__.get("_answer")
        if answer is None:  # once per serializer (a list's one child serves every row): its methods bound
            given: dict[str, Any] = {}
            for index, (_, column, show, as_is) in enumerate(self.row_plan()):
                if column is None:
                    given[f"m{index}"] = getattr(self, show)
                elif as_is is not object:
                    given[f"s{index}"] = show
                    if as_is is not None:
                        given[f"t{index}"] = as_is
            answer = self.__dict__["_answer"] = self.answerer()(json_loads, **given)
        return answer(row)
