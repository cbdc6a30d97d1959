"""What the REST mirror's viewsets share: 202 answers with the operation, ?wait=, Idempotency-Key, and
how long a view waits for a worker's answer."""

from __future__ import annotations

import json
from collections.abc import Callable

from rest_framework import permissions, status
from rest_framework.response import Response

from networks.models import Operation
from networks.selectors.operations import operation_as_row, operation_find
from networks.services import notices
from plumbing.errors import ServiceError
from plumbing.transactions import atomic_as_a_whole, atomic_with_retry
from plumbing.writes import Writes
from portal import services as portal_services
from portal.api.base import TenantViewSet

from ..serializers.operations import OperationSerializer

MAX_WAIT_SECONDS = 120
# How long a view that needs a worker's answer (a health check, docker network inspect, diagnostics)
# waits for it before it answers 503.
WORKER_TIMEOUT_SECONDS = 20
# The worker's word that the operation changed wakes a waiting request at once (services/notices.py);
# the database is read again every WAIT_RECHECK_SECONDS all the same (a word lost while Redis
# restarted), and every WAIT_POLL_SECONDS while Redis does not answer.
WAIT_RECHECK_SECONDS = 2.0
WAIT_POLL_SECONDS = 0.25


# --- operations: 202, Location, ?wait= --------------------------------------------------------


def wait_seconds(request) -> float:
    raw = request.query_params.get("wait")
    if raw in (None, ""):
        return 0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= MAX_WAIT_SECONDS:
        raise ServiceError("bad_wait", f"wait is a number of seconds from 0 to {MAX_WAIT_SECONDS}.", field="wait")
    return seconds


def operation_wait(pk: int, *, until: Callable[[], bool], seconds: float) -> bool:
    """Hold the request until `until()` holds (asked again at each word from a worker about the operation)
    or the wait runs out; whether it held."""
    return notices.wait_for(
        [notices.channel("operation", pk)],
        changed=until,
        timeout=seconds,
        recheck=WAIT_RECHECK_SECONDS,
        poll=WAIT_POLL_SECONDS,
    )


def operation_wait_until_finished(operation: Operation, seconds: float) -> Operation:
    """Hold the request until a worker finishes the operation or the wait runs out; the operation as it is then."""

    def finished() -> bool:
        operation.refresh_from_db()
        return operation.is_finished

    if not operation.is_finished and seconds > 0:
        operation_wait(operation.pk, until=finished, seconds=seconds)
    return operation


class BaseViewSet(TenantViewSet):
    """The tenant's objects, and calls that change the cluster answered 202 with their operation."""

    wait = 0.0

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in permissions.SAFE_METHODS:
            self.wait = wait_seconds(request)  # a bad ?wait= is refused before anything is changed

    def operation_body(self, operation: Operation) -> dict:
        """The operation as the API shows it (OperationSerializer of its row, not read again)."""
        return OperationSerializer(operation_as_row(operation), context=self.get_serializer_context()).data

    def operation_answer(self, operation: Operation, *, headers=None, body: dict | None = None) -> Response:
        """202 with the operation and its Location; with ?wait=, 200 once it has finished.

        `body`: the operation as already serialized when it was recorded (used unless ?wait= waited)."""
        if self.wait:
            operation = operation_wait_until_finished(operation, self.wait)
            body = None
        body = self.operation_body(operation) if body is None else body
        return Response(
            body,
            status=status.HTTP_200_OK if self.wait and operation.is_finished else status.HTTP_202_ACCEPTED,
            headers={"Location": body["url"], **(headers or {})},  # the operation's own url
        )

    def idempotent_create(self, create, *, gathers: bool = False) -> Response:
        """Run `create()` (which returns an Operation) at most once per Idempotency-Key.

        The answer is stored in the transaction that creates the object, so a retry finds both or
        neither. A retry gets the stored 202 back; with ?wait= it waits for that operation instead.
        Without a key, the create is the service's alone (it retries a deadlock itself); with one, the
        create and the stored answer are one transaction, made again as a whole when it was a
        deadlock's victim (the service's own retry defers to this outer one). `gathers`: with a key,
        `create(writes)` gathers its rows in `writes` (plumbing/writes.py), sent with the stored answer.
        """
        key = self.idempotency_key()
        if not key:
            return self.operation_answer(create())

        def made(writes: Writes):
            operation = create(writes) if gathers else create()
            body = dict(self.operation_body(operation))
            return operation, body, body["url"]  # the Location: the operation's own url

        record, operation, body = self.made_once(key, made)
        if record is None:
            return self.operation_answer(operation, body=body)  # the answer stored is the answer given
        replayed = {"Idempotent-Replayed": "true"}
        answer = record.answer()
        operation = operation_find(tenant=self.request.tenant, pk=answer.get("id"))
        if self.wait and operation is not None:
            return self.operation_answer(operation, headers=replayed)
        return Response(answer, status=record.status_code, headers={"Location": record.location, **replayed})

    def idempotent_batch(self, create) -> Response:
        """202 with the body `create()` returns (a batch's outcomes, serialized in its transaction), made
        at most once per Idempotency-Key as `idempotent_create` makes one create."""
        key = self.idempotency_key()
        if not key:
            return Response(atomic_with_retry(create), status=status.HTTP_202_ACCEPTED)
        record, _, body = self.made_once(key, lambda writes: (None, create(), ""))
        if record is None:
            return Response(body, status=status.HTTP_202_ACCEPTED)
        return Response(record.answer(), status=record.status_code, headers={"Idempotent-Replayed": "true"})

    def idempotency_key(self) -> str:
        key = (self.request.headers.get("Idempotency-Key") or "").strip()
        if len(key) > 255:
            raise ServiceError("bad_idempotency_key", "The Idempotency-Key is at most 255 characters.")
        return key

    def made_once(self, key: str, make):
        """`make(writes)` (returning what it made, the answer's body and Location; what it gathers in `writes`
        is sent with the stored answer) and the stored answer, in one transaction; or the answer stored for
        this key before: (record, None, None)."""
        fingerprint = portal_services.idempotency_fingerprint(
            method=self.request.method,
            path=self.request.path,
            tenant_id=self.request.tenant.pk,
            body=json.dumps(self.request.data, sort_keys=True).encode(),
        )

        def make_once():
            found = portal_services.idempotency_find(user=self.request.user, key=key, fingerprint=fingerprint)
            if found is not None:
                return found, None, None
            writes = Writes()
            made, body, location = make(writes)
            portal_services.idempotency_save(
                user=self.request.user,
                key=key,
                fingerprint=fingerprint,
                status_code=status.HTTP_202_ACCEPTED,
                body=body,
                location=location,
                writes=writes,
                commit=True,  # the transaction ends with the stored answer
            )
            return None, made, body

        return atomic_as_a_whole(make_once)  # any error answers the request: no savepoint inside
