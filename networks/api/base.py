"""What every API view shares: the tenant and its roles, throttling, lists, 202 answers, Idempotency-Key."""

from __future__ import annotations

import json
import time

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters, permissions, status, viewsets
from rest_framework.response import Response

from networks.models import Operation
from networks.services.errors import ServiceError
from portal import services as portal_services
from portal.tenancy import membership_for_request

MAX_WAIT_SECONDS = 120
WAIT_POLL_SECONDS = 0.25


# --- tenant and roles -------------------------------------------------------------------------


class TenantRolePermission(permissions.BasePermission):
    """The UI's rules: viewers read, members and owners change, owners manage members.

    The tenant is the `X-Tenant` header (a slug) or the user's first membership, as in the UI.
    A view says what an unsafe method needs with `role_required` ("change" or "manage"); reads
    need `role_required_for_read` (None: any member).
    """

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        membership = membership_for_request(request)
        request.membership = membership
        request.tenant = membership.tenant if membership else None
        if membership is None:
            slug = request.headers.get("X-Tenant")
            self.message = (
                f'You are not a member of a tenant "{slug}". Leave out X-Tenant to use your first tenant.'
                if slug
                else "You are not a member of any tenant. Ask an admin to add you to one."
            )
            return False
        needed = getattr(view, "role_required_for_read", None)
        if request.method not in permissions.SAFE_METHODS:
            needed = getattr(view, "role_required", "change")
        if needed == "manage" and not membership.can_manage:
            self.message = "Only the tenant's owners can manage members and policies."
            return False
        if needed == "change" and not membership.can_change:
            self.message = "Your role in this tenant is read-only. Ask an owner to make you a member."
            return False
        return True


class TenantFilterBackend(DjangoFilterBackend):
    """The shared filtersets take the tenant, so a filter can only name the tenant's own objects."""

    def get_filterset_kwargs(self, request, queryset, view):
        return {**super().get_filterset_kwargs(request, queryset, view), "tenant": getattr(request, "tenant", None)}


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` naming a field a list cannot be ordered by is a 400 that names the ones it can."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        refused = [term for term in fields if term and term not in valid]
        if refused:
            names = ", ".join(name for name, _ in self.get_valid_fields(queryset, view, {"request": request}))
            raise ServiceError(
                "bad_ordering",
                f"This list cannot be ordered by {', '.join(refused)}. "
                f"Order by one of {names}; a leading - reverses the order.",
                field="ordering",
            )
        return valid


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


def operation_wait_until_finished(operation: Operation, seconds: float) -> Operation:
    """Poll the database until a worker finishes the operation or the wait runs out."""
    deadline = time.monotonic() + seconds
    while not operation.is_finished and time.monotonic() < deadline:
        time.sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        operation.refresh_from_db()
    return operation


def operation_location(request, operation: Operation) -> str:
    return request.build_absolute_uri(reverse("api:operation-detail", args=[operation.pk]))


class BaseViewSet(viewsets.GenericViewSet):
    """Tenant-scoped reads through selectors; a missing or foreign id is the same 404 sentence."""

    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]
    filter_backends = [TenantFilterBackend, StrictOrderingFilter]
    lookup_value_regex = r"[0-9]{1,18}"  # larger ids cannot exist; the catch-all answers them with a 404
    noun = "object"
    selector_get = None  # selector(*, tenant, pk)

    wait = 0.0

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in permissions.SAFE_METHODS:
            self.wait = wait_seconds(request)  # a bad ?wait= is refused before anything is changed

    def scoped_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular looks at the model only
            return self.serializer_class.Meta.model.objects.none()
        return self.scoped_queryset()

    def get_object(self):
        try:
            obj = type(self).selector_get(tenant=self.request.tenant, pk=self.kwargs["pk"])
        except Http404:
            raise exceptions.NotFound(f"No such {self.noun}.") from None
        self.check_object_permissions(self.request, obj)
        return obj

    def operation_body(self, operation: Operation) -> dict:
        from .serializers import OperationSerializer

        return OperationSerializer(operation, context=self.get_serializer_context()).data

    def operation_answer(self, operation: Operation, *, headers=None) -> Response:
        """202 with the operation and its Location; with ?wait=, 200 once it has finished."""
        if self.wait:
            operation = operation_wait_until_finished(operation, self.wait)
        return Response(
            self.operation_body(operation),
            status=status.HTTP_200_OK if self.wait and operation.is_finished else status.HTTP_202_ACCEPTED,
            headers={"Location": operation_location(self.request, operation), **(headers or {})},
        )

    def idempotent_create(self, create) -> Response:
        """Run `create()` (which returns an Operation) at most once per Idempotency-Key.

        The answer is stored in the transaction that creates the object, so a retry finds both or
        neither. A retry gets the stored 202 back; with ?wait= it waits for that operation instead.
        """
        key = (self.request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            return self.operation_answer(create())
        if len(key) > 255:
            raise ServiceError("bad_idempotency_key", "The Idempotency-Key is at most 255 characters.")
        fingerprint = portal_services.idempotency_fingerprint(
            method=self.request.method,
            path=self.request.path,
            tenant_id=self.request.tenant.pk,
            body=json.dumps(self.request.data, sort_keys=True).encode(),
        )
        with transaction.atomic():
            record = portal_services.idempotency_find(user=self.request.user, key=key, fingerprint=fingerprint)
            if record is None:
                operation = create()
                portal_services.idempotency_save(
                    user=self.request.user,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=status.HTTP_202_ACCEPTED,
                    body=dict(self.operation_body(operation)),
                    location=operation_location(self.request, operation),
                )
        if record is None:
            return self.operation_answer(operation)
        replayed = {"Idempotent-Replayed": "true"}
        operation = Operation.objects.filter(pk=record.body.get("id"), tenant=self.request.tenant).first()
        if self.wait and operation is not None:
            return self.operation_answer(operation, headers=replayed)
        return Response(record.body, status=record.status_code, headers={"Location": record.location, **replayed})
