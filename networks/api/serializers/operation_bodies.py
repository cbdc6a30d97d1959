"""An operation as the API shows it, made without a serializer per operation: the same dict, key for key and
value for value, as `OperationSerializer(...).data` (tests/networks/api/test_operation_bodies.py compares
them for operations of every kind and status, and for odd JSON in their fields).

Rendering a page of 50 operations through the ModelSerializer cost about 8 ms of CPU (a serializer, its
fields and a URL `reverse()` per operation, and model instances with four related rows each), and scripts
poll such a page every few milliseconds while a batch runs. Here an operation is a row of
`selectors.operations.operation_rows` or `operation_row_get` (or `operation_row` of an instance), each value
goes out as DRF's field would write it (the JSON fields' ordinary shapes directly; anything else through the
field itself), and the url is the one `reverse()` of the request with the operation's id put in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rest_framework import serializers
from rest_framework.reverse import reverse

from networks.models import Operation
from networks.selectors.operations import waiting_for

from .operations import ProgressSerializer, TransferSerializer

_DATETIME = serializers.DateTimeField()
_DICT = serializers.DictField()
_PROGRESS = ProgressSerializer(many=True)
_TRANSFER = TransferSerializer()
_PROBE = 918273645546372819  # an id no table reaches, to find where an id goes in the url
_TRANSFER_COUNTS = ("layers_done", "layers_total", "bytes_done", "bytes_total")


def operation_row(operation: Operation) -> dict:
    """An instance as a row of `operation_rows` (reading `requested_by` as the serializer did)."""
    user = operation.requested_by
    row = {name: getattr(operation, name) for name in _INSTANCE_FIELDS}
    row["requested_by__username"] = None if user is None else user.username
    row["ahead"] = getattr(operation, "ahead", None)
    return row


_INSTANCE_FIELDS = (
    "id", "kind", "status", "waits_on", "waiting_since", "sent", "target", "cluster_id", "network_id",
    "container_id", "params", "progress", "transfer", "result", "error", "error_code", "attempts", "created",
    "started", "finished",
)  # fmt: skip


def operation_urls(request) -> Callable[[int], str]:
    """`pk -> the operation's url`, as `reverse("api:operation-detail", ...)` makes it for this request."""
    probe = str(_PROBE)
    url = reverse("api:operation-detail", args=[_PROBE], request=request)
    if url.count(probe) != 1:  # the request's own query (?format=) named the probe: reverse each
        return lambda pk: reverse("api:operation-detail", args=[pk], request=request)
    head, _, tail = url.partition(probe)
    return lambda pk: f"{head}{pk}{tail}"


def _text(value):
    return None if value is None else str(value)


def _datetime(value):
    return None if value is None else _DATETIME.to_representation(value)


def _dict(value):
    if value is None:
        return None
    if type(value) is dict and all(type(key) is str for key in value):
        return dict(value)
    return _DICT.to_representation(value)


def _progress(items):
    if items is None:
        return None
    if type(items) is list and all(
        type(item) is dict and type(item.get("at")) is str and item["at"] and type(item.get("message")) is str
        for item in items
    ):
        return [{"at": item["at"], "message": item["message"]} for item in items]
    return _PROGRESS.to_representation(items)


def _transfer(transfer):
    transfer = transfer or None  # Operation.transfer_or_none
    if transfer is None:
        return None
    if (
        type(transfer) is dict
        and type(transfer.get("image")) is str
        and all(type(transfer.get(name)) is int for name in _TRANSFER_COUNTS)
    ):
        return {"image": transfer["image"], **{name: transfer[name] for name in _TRANSFER_COUNTS}}
    return _TRANSFER.to_representation(transfer)


def operation_body(row: dict, url: Callable[[int], str]) -> dict:
    """One operation (a row of `operation_rows` or `operation_row`) as OperationSerializer writes it."""
    return {
        "id": int(row["id"]),
        "url": url(row["id"]),
        "kind": _text(row["kind"]),
        "status": _text(row["status"]),
        "waiting_for": waiting_for(
            status=row["status"],
            waits_on=row["waits_on"],
            waiting_since=row["waiting_since"],
            sent=row["sent"],
            created=row["created"],
            ahead=row["ahead"],
        ),
        "target": _text(row["target"]),
        "cluster": row["cluster_id"],
        "network": row["network_id"],
        "container": row["container_id"],
        "params": _dict(row["params"]),
        "progress": _progress(row["progress"]),
        "transfer": _transfer(row["transfer"]),
        "result": _dict(row["result"]),
        "error": _text(row["error"]),
        "error_code": _text(row["error_code"]),
        "requested_by": _text(row["requested_by__username"]),
        "attempts": None if row["attempts"] is None else int(row["attempts"]),
        "created": _datetime(row["created"]),
        "started": _datetime(row["started"]),
        "finished": _datetime(row["finished"]),
    }


def operation_bodies(rows: Iterable[dict], request) -> list[dict]:
    url = operation_urls(request)
    return [operation_body(row, url) for row in rows]
