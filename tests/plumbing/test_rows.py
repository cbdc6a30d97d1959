"""A RowSerializer answers from a values() row exactly what DRF's ModelSerializer answers from the object."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from plumbing.api.rows import RowSerializer, _kept_as_is, _utc_iso
from portal.models import Membership
from tests.factories import make_team

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


# Each kind of field whose column is shown as it is, with the type of value shown unchanged (`object`:
# any value) and values of that type to try.
ANY_VALUE = st.one_of(
    st.booleans(),
    st.integers(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
STRINGS = st.one_of(st.text(max_size=8), st.sampled_from(["active", "1", "true", "0", "no", "null", ""]))
KEPT = [
    (serializers.CharField(), str, STRINGS),
    (serializers.IPAddressField(), str, STRINGS),
    (serializers.IntegerField(), int, st.integers()),
    (serializers.BigIntegerField(), int, st.integers()),
    (serializers.BooleanField(), bool, st.booleans()),
    (serializers.ChoiceField(choices=["active", "failed", "1"]), str, STRINGS),
    (serializers.JSONField(), object, ANY_VALUE),
]


@pytest.mark.parametrize(("field", "kept", "values"), KEPT, ids=[type(field).__name__ for field, _, _ in KEPT])
@given(data=st.data())
def test_a_value_kept_as_it_is_is_what_the_field_would_answer(field, kept, values, data):
    """A column's value skips the field's formatting only where the formatting would answer it unchanged."""
    assert _kept_as_is(field) is kept
    value = data.draw(values)
    shown = field.to_representation(value)
    assert shown == value and type(shown) is type(value)


@pytest.mark.parametrize(
    "field",
    [
        serializers.DateTimeField(),
        serializers.BigIntegerField(coerce_to_string=True),
        serializers.JSONField(binary=True),
        serializers.ChoiceField(choices=[(1, "one"), (2, "two")]),
        serializers.DecimalField(max_digits=5, decimal_places=2),
    ],
    ids=lambda field: type(field).__name__,
)
def test_fields_that_format_are_not_kept_as_they_are(field):
    assert _kept_as_is(field) is None


@given(
    moment=st.datetimes(timezones=st.sampled_from([datetime.UTC, ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Kolkata")])),
)
def test_a_time_in_utc_is_written_as_drf_writes_it(moment):
    """The times of a row (UTC from the database) skip DRF's per-value look-ups, answering the same text;
    a time in another zone goes through DRF's own formatting."""
    field = serializers.DateTimeField(default_timezone=datetime.UTC)
    show = _utc_iso(field)
    assert show(moment) == field.to_representation(moment)
    assert show(moment.astimezone(datetime.UTC)) == field.to_representation(moment)


def test_only_iso_times_in_utc_are_written_the_fast_way():
    assert _utc_iso(serializers.DateTimeField()) is None  # the current time zone, looked up per value
    assert _utc_iso(serializers.DateTimeField(default_timezone=datetime.UTC, format="%Y")) is None
