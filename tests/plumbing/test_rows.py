"""A RowSerializer answers from a values() row exactly what DRF's ModelSerializer answers from the object."""

import pytest
from rest_framework import serializers

from plumbing.api.rows import RowSerializer
from portal.models import Membership
from tests.pages import make_team

pytestmark = pytest.mark.django_db


class MembershipRows(RowSerializer):
    """Each kind of field: a primary key, a relation, a choice, a time, sources through relations, a
    method reading a further column."""

    tenant_name = serializers.CharField(source="tenant.name")
    email = serializers.CharField(source="user.email", allow_null=True)
    manager = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "tenant", "tenant_name", "role", "created", "email", "manager"]
        method_columns = ["user"]

    def get_manager(self, membership) -> bool:
        return membership["role"] == Membership.Role.OWNER and membership["user"] is not None


class MembershipObjects(serializers.ModelSerializer):
    tenant_name = serializers.CharField(source="tenant.name")
    email = serializers.CharField(source="user.email", allow_null=True)
    manager = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = MembershipRows.Meta.fields

    def get_manager(self, membership) -> bool:
        return membership.can_manage and membership.user_id is not None


def test_a_row_answers_as_its_object_does():
    team = make_team()
    team.owner.email = "owner@example.com"
    team.owner.save()
    memberships = Membership.objects.filter(tenant=team.tenant).order_by("pk")
    assert MembershipRows.columns() == ["id", "tenant", "tenant__name", "role", "created", "user__email", "user"]
    rows = MembershipRows(memberships.values(*MembershipRows.columns()), many=True).data
    objects = MembershipObjects(memberships, many=True).data
    assert len(rows) == 3 and rows == objects
    assert [row["email"] for row in rows] == ["owner@example.com", "", ""]
    assert [row["manager"] for row in rows] == [True, False, False]
