"""Request fields of the REST mirror's own, beside the strict ones of plumbing.api.fields: a network
named by its id or its name."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plumbing.inputs import MAX_ID


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}]})
class NetworkRef(serializers.Field):
    """A network of the tenant, by id (42) or by name ("mynetwork")."""

    default_error_messages = {"invalid": "Name a network by its id (a number) or its name (text)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)) or data in ("", 0):
            self.fail("invalid")
        if isinstance(data, int) and not 1 <= data <= MAX_ID:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value
