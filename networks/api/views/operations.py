"""Operations over the API: what the portal asked of the cluster and how it went (read only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from networks.filters import OperationFilterSet
from networks.selectors.operations import operation_get, operation_list

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
        return operation_list(tenant=self.request.tenant)
