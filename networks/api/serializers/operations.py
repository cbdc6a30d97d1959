"""Operations in the REST mirror: one with its progress, its image transfer and what it waits for, and a
batch of those that one request started.

An operation is serialized from a row of `selectors.operations.operation_rows` (or `operation_row_get`, or
`operation_as_row` of an instance), not from a model object: scripts poll a page of 50 every few
milliseconds while a batch runs, and a ModelSerializer per operation, with its model instance, four related
rows and a URL `reverse()`, cost most of such a request. The JSON fields' ordinary shapes go out directly,
anything else through DRF's own field (tests/networks/api/test_operation_bodies.py compares the answer
with the model-based serializer's, byte for byte), and the url is one `reverse()` per request with each
operation's id put in its place.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import cached_property

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from networks.models import Operation
from networks.selectors.operations import waiting_for
from plumbing.api.rows import RowSerializer

_PROBE = 918273645546372819  # an id no table reaches, to find where an id goes in the url
_TRANSFER_COUNTS = ("layers_done", "layers_total", "bytes_done", "bytes_total")


def operation_urls(request) -> Callable[[int], str]:
    """`pk -> the operation's url`, as `reverse("api:operation-detail", ...)` makes it for this request."""
    probe = str(_PROBE)
    url = reverse("api:operation-detail", args=[_PROBE], request=request)
    if url.count(probe) != 1:  # the request's own query (?format=) named the probe: reverse each
        return lambda pk: reverse("api:operation-detail", args=[pk], request=request)
    head, _, tail = url.partition(probe)
    return lambda pk: f"{head}{pk}{tail}"


class JsonObject(serializers.DictField):
    """A JSON column holding an object: a dict of text keys goes out as it is (what DictField answers)."""

    def to_representation(self, value):
        if type(value) is dict and all(type(key) is str for key in value):
            return dict(value)
        return super().to_representation(value)


class ProgressList(serializers.ListSerializer):
    """Progress messages: the ordinary ones (a time's text and a message) go out as they are."""

    def to_representation(self, data):
        if type(data) is list and all(
            type(item) is dict and type(item.get("at")) is str and item["at"] and type(item.get("message")) is str
            for item in data
        ):
            return [{"at": item["at"], "message": item["message"]} for item in data]
        return super().to_representation(data)


class ProgressSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    message = serializers.CharField()

    class Meta:
        list_serializer_class = ProgressList


class TransferSerializer(serializers.Serializer):
    image = serializers.CharField()
    layers_done = serializers.IntegerField()
    layers_total = serializers.IntegerField()
    bytes_done = serializers.IntegerField()
    bytes_total = serializers.IntegerField()

    def to_representation(self, transfer):
        if not transfer:  # nothing pulled yet: {} (Operation.transfer_or_none)
            return None
        if (
            type(transfer) is dict
            and type(transfer.get("image")) is str
            and all(type(transfer.get(name)) is int for name in _TRANSFER_COUNTS)
        ):
            return {"image": transfer["image"], **{name: transfer[name] for name in _TRANSFER_COUNTS}}
        return super().to_representation(transfer)


class OperationSerializer(RowSerializer):
    url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    progress = ProgressSerializer(many=True)
    transfer = TransferSerializer(
        allow_null=True,
        help_text="While (and after) a run pulls its image: layers and bytes so far; null when nothing was pulled.",
    )
    params = JsonObject(help_text="What was asked for; never secret values.")
    result = JsonObject()
    waiting_for = serializers.SerializerMethodField(
        help_text="While unfinished, what it waits for: the task queue, a worker busy with N operations ahead, or "
        'the cluster (with for how long); "" otherwise.'
    )

    class Meta:
        model = Operation
        fields = ["id", "url", "kind", "status", "waiting_for", "target", "cluster", "network", "container", "params"]
        fields += ["progress", "transfer"]
        fields += ["result", "error", "error_code", "requested_by", "attempts", "created", "started", "finished"]
        method_columns = ["waits_on", "waiting_since", "sent"]  # waiting_for's, with status, created and `ahead`
        # Times in UTC, as TIME_ZONE (no request activates another), without looking the time zone up per value.
        extra_kwargs = {name: {"default_timezone": datetime.UTC} for name in ("created", "started", "finished")}

    @cached_property
    def urls(self) -> Callable[[int], str]:
        """One `reverse()` per serializer (a list's one child serves every row)."""
        return operation_urls(self.context.get("request"))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, operation) -> str:
        return self.urls(operation["id"])

    def get_waiting_for(self, operation) -> str:
        created = operation["created"]
        return waiting_for(
            status=operation["status"],
            waits_on=operation["waits_on"],
            waiting_since=operation["waiting_since"],
            sent=operation["sent"],
            created=parse_datetime(created) if type(created) is str else created,  # read as text
            ahead=operation.get("ahead"),
        )


class OperationBatchSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    operations = OperationSerializer(many=True)
