"""A RowSerializer answers from a values() row exactly what DRF's ModelSerializer answers from the object."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from plumbing.api.rows import RowSerializer, _kept_as_is
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


KINDS = [
    serializers.CharField(),
    serializers.IPAddressField(),
    serializers.IntegerField(),
    serializers.BigIntegerField(),
    serializers.BigIntegerField(coerce_to_string=True),
    serializers.BooleanField(),
    serializers.ChoiceField(choices=["active", "failed", "1"]),
    serializers.ChoiceField(choices=[(1, "one"), (2, "two")]),
    serializers.JSONField(),
    serializers.JSONField(binary=True),
    serializers.DateTimeField(),
    serializers.DecimalField(max_digits=5, decimal_places=2),
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=8),
    st.sampled_from(["active", "1", "true", "0", "no", "null", ""]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.mark.parametrize("field", KINDS, ids=lambda field: type(field).__name__)
@given(value=VALUES)
def test_a_value_kept_as_it_is_is_what_the_field_would_answer(field, value):
    """A column's value skips the field's formatting only where the formatting would answer it unchanged."""
    as_is = _kept_as_is(field)
    if value is not None and (as_is is object or type(value) is as_is):
        shown = field.to_representation(value)
        assert shown == value and type(shown) is type(value)


def test_fields_that_format_are_not_kept_as_they_are():
    assert _kept_as_is(serializers.DateTimeField()) is None
    assert _kept_as_is(serializers.BigIntegerField(coerce_to_string=True)) is None
    assert _kept_as_is(serializers.JSONField(binary=True)) is None
    assert _kept_as_is(serializers.ChoiceField(choices=[(1, "one")])) is None
    assert _kept_as_is(serializers.CharField()) is str and _kept_as_is(serializers.BooleanField()) is bool
