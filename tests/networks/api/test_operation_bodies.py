"""An operation rendered from its row (OperationSerializer, networks/api/serializers/operations.py) is the
same JSON, byte for byte, as the model-based serializer the API had before wrote of the instance (kept
below, as it was, as the reference): read as rows, as one row or from an instance, of every kind, status
and wait, and with whatever JSON its fields hold."""

import datetime
import json
from unittest import mock

import pytest
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.reverse import reverse
from rest_framework.test import APIRequestFactory

from networks.api.serializers.operations import OperationSerializer
from networks.models import Operation
from networks.selectors.operations import (
    OPERATION_COLUMNS,
    operation_as_row,
    operation_get,
    operation_list,
    operation_row_get,
    operation_rows,
    operation_waiting_for,
)
from tests.factories import make_container, make_network, make_operation

NOW = datetime.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC)


class ReferenceProgressSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    message = serializers.CharField()


class ReferenceTransferSerializer(serializers.Serializer):
    image = serializers.CharField()
    layers_done = serializers.IntegerField()
    layers_total = serializers.IntegerField()
    bytes_done = serializers.IntegerField()
    bytes_total = serializers.IntegerField()


class ReferenceSerializer(serializers.ModelSerializer):
    """OperationSerializer as it was over model instances (session 18): what the rows must render as."""

    url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    progress = ReferenceProgressSerializer(many=True)
    transfer = ReferenceTransferSerializer(allow_null=True, source="transfer_or_none")
    params = serializers.DictField()
    result = serializers.DictField()
    waiting_for = serializers.SerializerMethodField()

    class Meta:
        model = Operation
        fields = ["id", "url", "kind", "status", "waiting_for", "target", "cluster", "network", "container", "params"]
        fields += ["progress", "transfer"]
        fields += ["result", "error", "error_code", "requested_by", "attempts", "created", "started", "finished"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, operation) -> str:
        return reverse("api:operation-detail", args=[operation.pk], request=self.context.get("request"))

    def get_waiting_for(self, operation) -> str:
        return operation_waiting_for(operation=operation)


def request_for(path="/api/v1/operations/"):
    return Request(APIRequestFactory().get(path))


def rendered(value) -> bytes:
    return JSONRenderer().render(value)


def serialized(operation, request) -> bytes:
    return rendered(ReferenceSerializer(operation, context={"request": request}).data)


def from_row(row, request) -> bytes:
    return rendered(OperationSerializer(row, context={"request": request}).data)


def test_the_rows_hold_the_serializers_columns():
    assert OperationSerializer.columns() == list(OPERATION_COLUMNS)


def made_operations(team) -> list[Operation]:
    network = make_network(team, "web")
    container = make_container(team, "box", networks=[network])
    operations = []
    waits = [("", None), *((wait, NOW - datetime.timedelta(seconds=75)) for wait in Operation.WaitsOn.values[1:])]
    for i, kind in enumerate(Operation.Kind.values):
        for status in Operation.Status.values:
            for sent in (None, NOW):
                wait, since = waits[i % len(waits)]
                failed = status == Operation.Status.FAILED
                operations.append(
                    make_operation(
                        team,
                        kind,
                        status=status,
                        target=f"t{i}",
                        network=network if kind.startswith("network") else None,
                        container=container if kind.startswith("container") else None,
                        requested_by=team.owner if i % 2 else None,
                        sent=sent,
                        waits_on=wait,
                        waiting_since=since,
                        started=NOW if status != Operation.Status.QUEUED else None,
                        finished=NOW if status in Operation.FINISHED else None,
                        error="It failed: try again." if failed else "",
                        error_code="boom" if failed else "",
                        transfer={
                            "image": "a:1",
                            "layers_done": 1,
                            "layers_total": 2,
                            "bytes_done": 3,
                            "bytes_total": 9,
                        }
                        if i % 3 == 0
                        else {},
                        params={"name": "web", "labels": {"a": "b"}, "n": 3},
                        result={"network_id": "abc"} if status == Operation.Status.SUCCEEDED else {},
                        attempts=i % 3,
                    )
                )
    return operations


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/operations/", "/api/v1/operations/?format=json&id=5"])
def test_rows_and_instances_render_as_the_serializer_does(team, other_team, path):
    made = made_operations(team)
    request = request_for(path)
    with mock.patch("networks.selectors.operations.timezone.now", return_value=NOW + datetime.timedelta(seconds=1)):
        expected = {op.pk: serialized(op, request) for op in operation_list(tenant=team.tenant)}
        listed = OperationSerializer(list(operation_rows(tenant=team.tenant)), many=True, context={"request": request})
        rows = {body["id"]: rendered(body) for body in listed.data}
        one = {op.pk: serialized(operation_get(tenant=team.tenant, pk=op.pk), request) for op in made}
        instances = {
            op.pk: from_row(operation_as_row(operation_get(tenant=team.tenant, pk=op.pk)), request) for op in made
        }
        by_pk = {op.pk: from_row(operation_row_get(tenant=team.tenant, pk=op.pk), request) for op in made}
    assert len(expected) == len(made) == 2 * len(Operation.Kind.values) * len(Operation.Status.values)
    assert rows == expected
    assert instances == one
    assert by_pk == one
    with pytest.raises(Http404):
        operation_row_get(tenant=other_team.tenant, pk=made[0].pk)
    assert not list(operation_rows(tenant=other_team.tenant))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3),
    max_leaves=8,
)
progress_items = st.one_of(
    st.fixed_dictionaries(
        {"at": st.sampled_from(["2026-01-01T10:00:00+00:00", ""]) | json_values, "message": st.text() | json_values},
        optional={"extra": json_values},
    ),
    json_values,
)
TRANSFER_COUNTS = ("layers_done", "layers_total", "bytes_done", "bytes_total")
transfers = st.one_of(
    st.fixed_dictionaries(
        {"image": st.text() | json_values} | {name: st.integers() | json_values for name in TRANSFER_COUNTS}
    ),
    json_values,
)


def outcome(make):
    try:
        return rendered(make())
    except Exception as error:  # noqa: BLE001  # both ways must fail alike
        return type(error)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=json_values,
    progress=st.lists(progress_items, max_size=3) | json_values,
    transfer=transfers,
    result=json_values,
    status=st.sampled_from(Operation.FINISHED),
)
@example(params={}, progress=[{"at": "", "message": "m"}], transfer={}, result={}, status="failed")
@example(params={}, progress=[{"at": None, "message": 3}], transfer=None, result=None, status="failed")
@example(params={1: 2}, progress=None, transfer={"image": "a"}, result=[], status="succeeded")
@example(
    params={}, progress=[], transfer={"image": "a"} | dict.fromkeys(TRANSFER_COUNTS, True), result={}, status="failed"
)
def test_whatever_json_the_fields_hold_renders_as_the_serializer_does(params, progress, transfer, result, status):
    operation = Operation(
        id=7, cluster_id=3, kind=Operation.Kind.CONTAINER_RUN, status=status, target="box", params=params,
        progress=progress, transfer=transfer, result=result, created=timezone.now(),
    )  # fmt: skip
    request = request_for()
    expected = outcome(lambda: ReferenceSerializer(operation, context={"request": request}).data)
    assert (
        outcome(lambda: OperationSerializer(operation_as_row(operation), context={"request": request}).data) == expected
    )


@pytest.mark.django_db
def test_a_create_a_batch_and_a_read_answer_their_operations_as_the_serializer_does(team):
    api = team.api()
    created = api.post("networks/", {"name": "one"})
    batch = api.post("networks/batch/", [{"name": "two"}, {"name": ""}, {"name": "three"}])
    assert created.status_code == batch.status_code == 202
    answered = [created.json(), *(result["operation"] for result in batch.json()["results"])]
    assert answered[2] is None  # refused
    answered[2:3] = [api.get(f"operations/{created.json()['id']}/").json()]
    answered += api.get("operations/").json()["results"]
    request = created.wsgi_request
    assert len(answered) == 7
    for body in answered:
        operation = operation_get(tenant=team.tenant, pk=body["id"])
        # read back, `params` has PostgreSQL's key order (jsonb), the answer the order it was made in
        expected = json.loads(serialized(operation, Request(request)))
        assert body == expected
        assert list(body) == list(expected)
