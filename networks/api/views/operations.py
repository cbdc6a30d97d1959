"""Operations over the API: what the portal asked of the cluster and how it went (read only)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from networks.filters import OperationFilterSet
from networks.models import Operation
from networks.selectors.operations import operation_get, operation_row_get, operation_rows
from plumbing.api.etags import body_etag, is_seen, seen_etags
from plumbing.errors import found

from ..schema import FOLLOW_WAIT, IF_NONE_MATCH
from ..serializers.operations import OperationSerializer
from .base import BaseViewSet, operation_wait, wait_seconds

FINISHED = frozenset(Operation.FINISHED)


@extend_schema_view(
    list=extend_schema(summary="The tenant's operations, newest first"),
    retrieve=extend_schema(
        summary="An operation: status, progress messages, result or error sentence",
        parameters=[FOLLOW_WAIT, IF_NONE_MATCH],
        responses={
            200: OperationSerializer,
            304: OpenApiResponse(description="Not Modified: the operation is as the ETag in If-None-Match says."),
        },
    ),
)
class OperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = OperationSerializer
    filterset_class = OperationFilterSet
    noun = "operation"
    selector_get = staticmethod(operation_get)

    def scoped_queryset(self):
        return operation_rows(tenant=self.request.tenant)

    # The list (ListModelMixin's) serializes rows of operation_rows; one operation is read as a row by a
    # query compiled once, which scripts following an operation ask for often. Its ETag is its body's: with
    # If-None-Match and ?wait=, the answer is held until the operation is no longer what the client has
    # (a new step, a status, what it waits for), so a follower sees each change as it comes, without polling.
    def retrieve(self, request, *args, **kwargs):
        seconds, seen = wait_seconds(request), seen_etags(request)
        data, tag = self.operation_now()
        if seconds and (is_seen(tag, seen) if seen else data["status"] not in FINISHED):

            def changed() -> bool:
                nonlocal data, tag
                data, tag = self.operation_now()
                return not is_seen(tag, seen) if seen else data["status"] in FINISHED

            operation_wait(data["id"], until=changed, seconds=seconds)
        if is_seen(tag, seen):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        return Response(data, headers={"ETag": tag})

    def operation_now(self) -> tuple[dict, str]:
        """The operation as it is now, and the ETag of that body."""
        row = found(operation_row_get, self.noun, tenant=self.request.tenant, pk=self.kwargs["pk"])
        data = self.get_serializer(row).data
        return data, body_etag(data)
