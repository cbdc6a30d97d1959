"""Operations in the REST mirror: one with its progress, its image transfer and what it waits for, and a
batch of those that one request started."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from networks.models import Operation
from networks.selectors.operations import operation_waiting_for


class ProgressSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    message = serializers.CharField()


class TransferSerializer(serializers.Serializer):
    image = serializers.CharField()
    layers_done = serializers.IntegerField()
    layers_total = serializers.IntegerField()
    bytes_done = serializers.IntegerField()
    bytes_total = serializers.IntegerField()


class OperationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    progress = ProgressSerializer(many=True)
    transfer = TransferSerializer(
        allow_null=True,
        source="transfer_or_none",
        help_text="While (and after) a run pulls its image: layers and bytes so far; null when nothing was pulled.",
    )
    params = serializers.DictField(help_text="What was asked for; never secret values.")
    result = serializers.DictField()
    waiting_for = serializers.SerializerMethodField(
        help_text="While unfinished, what it waits for: the task queue, a worker busy with N operations ahead, or "
        'the cluster (with for how long); "" otherwise.'
    )

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


class OperationBatchSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    operations = OperationSerializer(many=True)
