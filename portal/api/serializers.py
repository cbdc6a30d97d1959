"""Shapes of the tenancy part of the REST API: members and API tokens."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plumbing.api.fields import StrictSerializer, Text
from portal.audit import CSV_COLUMNS
from portal.models import ApiToken, AuditEntry, Membership


class MembershipCreateSerializer(StrictSerializer):
    username = Text(allow_blank=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False, default=Membership.Role.MEMBER)


class MembershipUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class ApiTokenCreateSerializer(StrictSerializer):
    class Meta:
        model = ApiToken  # its columns bound the text fields of the same name (StrictSerializer)

    name = Text(allow_blank=True, help_text="What will use the token, such as cli.")


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "source", "created"]


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "last_used", "revoked", "is_active"]


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
