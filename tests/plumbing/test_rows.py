"""A RowSerializer answers from a values() row exactly what DRF's ModelSerializer answers from the object."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
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


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL test: run with DATABASE_URL=postgres://... (.ci/run does)"
)
def test_json_and_times_read_as_text_answer_as_the_decoded_columns_do():
    """On PostgreSQL a network's JSON columns and times are read as text (`values_arguments`): the same
    answer as the columns Django decodes, whatever the microseconds, labels or addresses."""
    from networks.api.serializers.networks import NetworkSerializer
    from networks.models import Network
    from networks.selectors.networks import network_rows, network_rows_with_containers
    from tests.factories import make_network

    team = make_team()
    labels = [{}, {"env": "prod", "é": "ü\u2028x", "quote": '"a\\b"'}, {"big": "1" * 40, "n": "1e400"}]
    times = [
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=datetime.UTC),
        datetime.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=ZoneInfo("Europe/Berlin")),
    ]
    for number, (label, time) in enumerate(zip(labels, times, strict=True)):
        network = make_network(
            team, f"n{number}", labels=label, aux_addresses={"h": f"10.9.{number}.1"} if number else {}
        )
        Network.objects.filter(pk=network.pk).update(created=time, updated=time)
    context = {"request": type("Request", (), {"tenant": team.tenant})()}
    columns, expressions = NetworkSerializer.values_arguments()
    assert sorted(expressions) == ["aux_addresses_as_text", "created_as_text", "labels_as_text", "updated_as_text"]
    assert set(columns) | {column for column, _ in NetworkSerializer.text_columns().values()} == set(
        NetworkSerializer.columns()
    )
    as_text = network_rows(tenant=team.tenant, columns=columns, expressions=expressions).order_by("name")
    decoded = network_rows(tenant=team.tenant, columns=NetworkSerializer.columns()).order_by("name")
    answers = [
        NetworkSerializer(network_rows_with_containers(list(rows)), many=True, context=context).data
        for rows in (as_text, decoded)
    ]
    assert len(answers[0]) == 3 and answers[0] == answers[1]
    assert [row["created"] for row in answers[0]] == [
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.000120Z",
        "1999-12-31T22:59:59.999999Z",
    ]
    assert answers[0][1]["labels"] == labels[1]
