"""Operations over the API: what the portal asked of the cluster and how it went (read only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.response import Response

from networks.filters import OperationFilterSet
from networks.selectors.operations import operation_get, operation_row_get, operation_rows
from plumbing.errors import found

from ..serializers.operations import OperationSerializer
from .base import BaseViewSet


@extend_schema_view(
    list=extend_schema(summary="The tenant's operations, newest first"),
    retrieve=extend_schema(summary="An operation: status, progress messages, result or error sentence"),
)
class OperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = OperationSerializer
    filterset_class = OperationFilterSet
    noun = "operation"
    selector_get = staticmethod(operation_get)

    def scoped_queryset(self):
        return operation_rows(tenant=self.request.tenant)

    # The list (ListModelMixin's) serializes rows of operation_rows; one operation is read as a row by a
    # query compiled once, which scripts following an operation ask for often.
    def retrieve(self, request, *args, **kwargs):
        row = found(operation_row_get, self.noun, tenant=request.tenant, pk=self.kwargs["pk"])
        return Response(self.get_serializer(row).data)
