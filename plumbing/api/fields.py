"""Strict request fields and bodies: unknown fields and wrong types are 400s, never guessed at; text
that its column cannot hold (too long, a NUL, a lone surrogate) is a 400 before the database sees it."""

from __future__ import annotations

import copy

from rest_framework import serializers

from plumbing.inputs import MAX_ID, bound_by_column, column_max_length, unstorable


class Text(serializers.CharField):
    """A JSON string; DRF's CharField would also take 42 or 4.2 and turn it into text."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)  # the services trim, and say so when it matters
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    """A JSON integer: not "24", not 24.5, not true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class Id(Integer):
    """An object's id, as the API's lists and records give it: a JSON integer from 1 (a name is not taken)."""

    default_error_messages = {
        "invalid": "This field takes an id, a whole number such as 1, as the API's lists give it; not a name.",
        "min_value": "This field takes an id, a whole number from 1 up.",
        "max_value": "This field takes an id, and none is that large.",
    }

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class Boolean(serializers.BooleanField):
    """A JSON true or false: not "yes", not 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class TextList(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("child", Text(allow_blank=True))
        kwargs.setdefault("default", list)
        super().__init__(**kwargs)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo ("subent") is a 400 rather than silently ignored, and any
    field holding text no column can (a NUL anywhere in it, keys included; a lone surrogate).

    With `Meta.model`, each text field is bounded by the model's column of the same name (or the one
    `Meta.columns` maps it to), so no request reaches the database with text longer than its column.
    """

    def get_fields(self):
        """The declared fields, bounded by their columns, made once per class; each instance binds copies.

        DRF deep-copies every declared field for every instance, each copy made again by its `__init__`: a
        create's validation spent more there than in validating. A field is the same for every request
        (its bounds too), so each instance gets a shallow copy of the class's to bind (`_own_copy`)."""
        cls = type(self)
        made = cls.__dict__.get("_made_fields")
        if made is None:
            made = super().get_fields()
            meta = getattr(self, "Meta", None)
            model = getattr(meta, "model", None)
            if model is not None:
                columns = getattr(meta, "columns", {})
                for name, field in made.items():
                    limit = column_max_length(model, columns.get(name, name))
                    if isinstance(field, serializers.CharField) and limit and (field.max_length or limit + 1) > limit:
                        bound_by_column(field, limit)
            cls._made_fields = made
        return {name: _own_copy(field) for name, field in made.items()}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                known = ", ".join(self.fields)
                # Named as UTF-8 can write it: a lone surrogate (a JSON escape) cannot be in the answer.
                name = unknown[0].encode("utf-8", "backslashreplace").decode()
                raise serializers.ValidationError(
                    {
                        name: [
                            serializers.ErrorDetail(
                                f'Unknown field "{name}". Known fields: {known}.', code="unknown_field"
                            )
                        ]
                    }
                )
            for name, value in data.items():
                refused = unstorable(value)
                if refused:
                    code, sentence = refused
                    raise serializers.ValidationError({name: [serializers.ErrorDetail(sentence, code=code)]})
        return super().to_internal_value(data)


def _own_copy(field: serializers.Field) -> serializers.Field:
    """A copy of a made field for one serializer to bind: its own binding (name, parent, label), and its own
    child (a list's or dict's, its parent this copy), sharing what never changes once made (arguments, validators).

    A nested serializer, or a field of related objects, keeps state of its own while it validates: it is
    deep-copied as DRF does (its fields have no column bounds to lose)."""
    if isinstance(field, serializers.BaseSerializer) or hasattr(field, "child_relation"):
        return copy.deepcopy(field)
    own = object.__new__(type(field))  # copy.copy, without its pickling protocol's detour
    own.__dict__.update(field.__dict__)
    child = getattr(field, "child", None)
    if child is not None:
        own.child = _own_copy(child)
        own.child.parent = own  # bound as its parent's __init__ bound it, to this copy
    return own


def valid(serializer_class, request, **kwargs) -> dict:
    """The request's body as `serializer_class` reads it; a bad one is a 400 in the one error shape."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
