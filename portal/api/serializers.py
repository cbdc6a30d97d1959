"""Shapes of the tenancy part of the REST API: members and API tokens."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plumbing.api.fields import Boolean, StrictSerializer, Text
from portal.audit import CSV_COLUMNS
from portal.models import ApiToken, AuditEntry, Membership


class MembershipCreateSerializer(StrictSerializer):
    username = Text(allow_blank=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False, default=Membership.Role.MEMBER)


class MembershipUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "format": "date"}]})
class ExpiryField(serializers.Field):
    """A number of days, or a date as text (YYYY-MM-DD), or "never"; the service says what is allowed."""

    default_error_messages = {
        "invalid": 'Give expires as a number of days, a date such as 2026-03-01, or "never".',
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 20:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class ApiTokenCreateSerializer(StrictSerializer):
    class Meta:
        model = ApiToken  # its columns bound the text fields of the same name (StrictSerializer)
        columns = {"tenant": "name"}

    name = Text(allow_blank=True, help_text="What will use the token, such as cli.")
    expires = ExpiryField(
        required=False,
        allow_null=True,
        help_text="A number of days, or the date it stops working (00:00 UTC that day); default "
        'API_TOKEN_DEFAULT_DAYS (90), at most API_TOKEN_MAX_DAYS; "never" only when that is 0.',
    )
    read_only = Boolean(required=False, default=False, help_text="When true, the token may only read.")
    tenant = Text(
        required=False,
        help_text="For a team token: the team's slug (owners only). The token belongs to the team, not to you.",
    )
    role = serializers.ChoiceField(
        choices=ApiToken.Role.choices, required=False, help_text="A team token's role in its team: member or viewer."
    )


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "source", "created"]


class ApiTokenSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="A team token's team (its slug); null for a personal token.",
    )
    created_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who made it; null from the command line or once that account is gone.",
    )
    role = serializers.ChoiceField(
        choices=ApiToken.Role.choices,
        allow_blank=True,
        read_only=True,
        help_text='A team token\'s role in its team: member or viewer; "" for a personal token.',
    )
    is_active = serializers.BooleanField(read_only=True, help_text="Neither revoked nor expired.")
    expires_soon = serializers.BooleanField(
        read_only=True, help_text="Working, but stops within API_TOKEN_WARN_DAYS (a week): make its successor."
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "tenant",
            "role",
            "read_only",
            "created",
            "created_by",
            "expires",
            "expires_soon",
            "last_used",
            "last_used_address",
            "revoked",
            "is_active",
        ]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.SerializerMethodField(help_text="Shown this once; only its SHA-256 is kept.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_key(self, token) -> str:
        return self.context["key"]


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "user", *CSV_COLUMNS]  # the CSV export's columns, plus the ids
