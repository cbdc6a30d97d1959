"""A batch of creates at the API's edge (`POST /api/v1/networks/batch/`): its body read item by item, each
item's refusal in the shape a single create is answered with, and the batch's answer."""

from __future__ import annotations

from rest_framework import serializers

from networks.selectors.operations import operation_as_row
from networks.services import references
from networks.services.networks.batch import BatchItem, BatchOutcome, check_batch_size
from plumbing.api.errors import service_error_body, validation_error_body
from plumbing.errors import ServiceError

from ..serializers.networks import NetworkCreateSerializer

BATCH_NOT_LIST = (
    'Send the networks as a JSON list, such as [{"name": "web"}, {"name": "db"}]: each item takes the fields of '
    "POST /api/v1/networks/."
)


def batch_items(request) -> list[BatchItem]:
    """A batch's body read item by item: each with its cluster and fields, or its own refusal (the same
    sentence and field a single create would be answered with)."""
    if not isinstance(request.data, list):
        raise ServiceError("batch_not_list", BATCH_NOT_LIST)
    check_batch_size(len(request.data))
    # One serializer reads every item: each new one deep-copies its declared fields (about 0.5 ms of CPU).
    reader = NetworkCreateSerializer()
    clusters: dict = {}
    items = []
    for index, raw in enumerate(request.data):
        name = raw.get("name") if isinstance(raw, dict) else None
        name = name if isinstance(name, str) else ""
        if not isinstance(raw, dict):
            refusal = ServiceError(
                "batch_item_not_object", f"Item {index} of the batch is not an object. {BATCH_NOT_LIST}"
            )
            items.append(BatchItem(index, name, refusal=refusal))
            continue
        try:  # what is_valid() does, on the one serializer
            fields = dict(reader.run_validation(raw))
        except serializers.ValidationError as error:
            items.append(BatchItem(index, name, refusal=validation_error_body(error.detail)["error"]))
            continue
        pk = fields.pop("cluster", None)
        if pk not in clusters:
            try:
                clusters[pk] = references.cluster_named(tenant=request.tenant, pk=pk)
            except ServiceError as error:
                clusters[pk] = error
        if isinstance(clusters[pk], ServiceError):
            items.append(BatchItem(index, name, refusal=clusters[pk]))
        else:
            items.append(BatchItem(index, name, cluster=clusters[pk], fields=fields))
    return items


def batch_body(outcomes: list[BatchOutcome]) -> dict:
    """The batch's answer for NetworkBatchSerializer: each made network's operation as a row, or null."""

    def error(refusal):
        return refusal if isinstance(refusal, dict) or refusal is None else service_error_body(refusal)["error"]

    results = [
        {
            "index": o.item.index,
            "name": o.item.name,
            "operation": None if o.operation is None else operation_as_row(o.operation),
            "error": error(o.error),
        }
        for o in outcomes
    ]
    made = sum(1 for o in outcomes if o.operation is not None)
    return {"count": len(outcomes), "made": made, "refused": len(outcomes) - made, "results": results}
