"""Overlay networks over the API: list, create and remove, Docker's live view, connect and disconnect
containers, share with other teams of the cluster and stop sharing."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from networks.filters import NetworkFilterSet
from networks.selectors.networks import network_get, network_rows, network_rows_with_containers, network_unused_list
from networks.selectors.operations import operation_as_row
from networks.services import references
from networks.services import shares as share_services
from networks.services.inspection import network_inspect_refusal
from networks.services.networks.attach import network_connect, network_disconnect
from networks.services.networks.batch import networks_create_batch
from networks.services.networks.create import network_create
from networks.services.networks.details import network_describe
from networks.services.networks.inspect import network_inspect
from networks.services.networks.remove import network_remove
from networks.services.networks.unused import (
    DAYS_SENTENCE,
    UNUSED_REMOVE_MAX,
    check_days,
    networks_remove_unused,
)
from networks.services.queue import worker_answer
from plumbing.api.fields import valid
from plumbing.api.schema import errors
from plumbing.errors import ServiceError, not_found
from plumbing.inputs import storable
from plumbing.prepared import PreparedRows
from plumbing.writes import Writes
from portal.actors import Actor
from portal.tenancy import require_manage

from ..schema import IDEMPOTENCY_KEY, WAIT, accepted
from ..serializers.batch import NetworkBatchSerializer
from ..serializers.networks import (
    NetworkConnectSerializer,
    NetworkCreateSerializer,
    NetworkDisconnectSerializer,
    NetworkInspectSerializer,
    NetworkSerializer,
    NetworkShareSerializer,
    NetworkUnshareSerializer,
    NetworkUpdateSerializer,
)
from ..serializers.operations import OperationBatchSerializer, OperationSerializer
from ..serializers.unused import UnusedNetworkSerializer, UnusedRemovalSerializer, UnusedRemoveSerializer
from .base import WORKER_TIMEOUT_SECONDS, BaseViewSet
from .network_batch import batch_body, batch_items


def query_days(request) -> int:
    """`?days=` (default UNUSED_NETWORK_DAYS); anything but a whole number is a 400."""
    raw = request.query_params.get("days", "")
    if raw == "":
        return settings.UNUSED_NETWORK_DAYS
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4):
        raise ServiceError("bad_days", DAYS_SENTENCE, field="days")
    return int(raw)


def _network_row_query(*, tenant: int, pk: int):
    columns, expressions = NetworkSerializer.values_arguments()
    return network_rows(tenant=tenant, columns=columns, expressions=expressions).filter(pk=pk).order_by()


_network_row = PreparedRows(_network_row_query, "tenant", "pk")


@extend_schema_view(
    list=extend_schema(summary="The tenant's networks (docker network ls)"),
    retrieve=extend_schema(summary="A network, as the portal records it, with its containers"),
)
class NetworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = NetworkSerializer
    filterset_class = NetworkFilterSet
    noun = "network"
    selector_get = staticmethod(network_get)

    def scoped_queryset(self):
        columns, expressions = NetworkSerializer.values_arguments()
        return network_rows(tenant=self.request.tenant, columns=columns, expressions=expressions)

    def paginate_queryset(self, queryset):
        return network_rows_with_containers(super().paginate_queryset(queryset))

    def network_row(self, pk) -> dict:
        """The network as the API shows it (get_object is the model, for the calls that change it): the
        row of `get_queryset()` by its pk, by that query compiled once (`PreparedRows`)."""
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise not_found(self.noun) from None
        if not -(2**63) <= pk < 2**63:
            raise not_found(self.noun)
        rows = network_rows_with_containers(_network_row(tenant=self.request.tenant.pk, pk=pk))
        if not rows:
            raise not_found(self.noun)
        return rows[0]

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.network_row(pk)).data)

    @extend_schema(
        summary="Change a network's description and tags (the portal's own; never sent to Docker)",
        request=NetworkUpdateSerializer,
        responses={200: NetworkSerializer, **errors(403, 409)},
    )
    def partial_update(self, request, pk=None):
        network = self.get_object()
        data = valid(NetworkUpdateSerializer, request)
        network_describe(actor=Actor.of(request), tenant=request.tenant, network=network, **data)
        return Response(self.get_serializer(self.network_row(network.pk)).data)

    @extend_schema(
        summary="Preview: the team's networks with no container for `days` days, the ones remove-unused may take",
        parameters=[OpenApiParameter("days", int, description="Default UNUSED_NETWORK_DAYS (30).")],
        responses={200: UnusedNetworkSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def unused(self, request):
        days = check_days(query_days(request))
        networks = network_unused_list(tenant=request.tenant, days=days)[:UNUSED_REMOVE_MAX]
        return Response(UnusedNetworkSerializer(networks, many=True).data)

    @extend_schema(
        summary="Remove a chosen set of unused networks (one operation each); one in use again is kept, and said",
        request=UnusedRemoveSerializer,
        responses={200: UnusedRemovalSerializer, **errors(403)},
    )
    @action(detail=False, methods=["post"], url_path="remove-unused")
    def remove_unused(self, request):
        data = valid(UnusedRemoveSerializer, request)
        result = networks_remove_unused(
            actor=Actor.of(request),
            tenant=request.tenant,
            network_ids=data["networks"],
            days=data.get("days", settings.UNUSED_NETWORK_DAYS),
        )
        body = {
            "removed": [{"network": n.pk, "name": n.name, "operation": op.pk} for n, op in result.removed],
            "kept": [{"network": pk, "name": name, "reason": why} for pk, name, why in result.kept],
        }
        return Response(UnusedRemovalSerializer(body).data)

    @extend_schema(
        summary="Create an overlay network (docker network create)",
        request=NetworkCreateSerializer,
        parameters=[WAIT, IDEMPOTENCY_KEY],
        responses=accepted(OperationSerializer, 409, 422),
    )
    def create(self, request):
        data = valid(NetworkCreateSerializer, request)

        def create(writes: Writes | None = None):
            cluster = references.cluster_named(tenant=request.tenant, pk=data.pop("cluster", None))
            return network_create(
                actor=Actor.of(request), tenant=request.tenant, cluster=cluster, writes=writes, **data
            )

        return self.idempotent_create(create, gathers=True)  # the stored answer sent with the network's rows

    @extend_schema(
        summary="Create up to 100 overlay networks at once: one operation each; each refusal on its own network",
        description="The body is a list of what `POST /api/v1/networks/` takes. Every network that can be made is "
        "made; each refused one has its `error` at its place in `results` (`refused` counts them). The answer is "
        "202 whenever the list itself was taken, even if every network was refused.",
        request=NetworkCreateSerializer(many=True),
        parameters=[IDEMPOTENCY_KEY],
        responses={
            202: OpenApiResponse(
                NetworkBatchSerializer, description="Accepted: an operation per network made, an error per one refused."
            ),
            **errors(422),
        },
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        if self.wait:
            raise ServiceError(
                "bad_wait",
                "A batch answers at once: ?wait= is for one operation. Follow each operation's url instead.",
                field="wait",
            )
        items = batch_items(request)

        def create():
            outcomes = networks_create_batch(actor=Actor.of(request), tenant=request.tenant, items=items)
            body = NetworkBatchSerializer(batch_body(outcomes), context=self.get_serializer_context()).data
            return storable(body)  # it echoes each item's name and refusal, and is kept with an Idempotency-Key

        return self.idempotent_batch(create)

    @extend_schema(
        summary="Remove a network (docker network rm)",
        parameters=[
            WAIT,
            OpenApiParameter(
                "disconnect",
                OpenApiTypes.BOOL,
                description="Disconnect attached containers first, instead of refusing.",
            ),
        ],
        responses=accepted(OperationSerializer, 409),
    )
    def destroy(self, request, pk=None):
        disconnect = request.query_params.get("disconnect", "").lower()
        if disconnect not in ("", "true", "false", "1", "0"):
            raise ServiceError("bad_disconnect", "disconnect is true or false.", field="disconnect")
        network = self.get_object()
        operation = network_remove(
            actor=Actor.of(request), tenant=request.tenant, network=network, disconnect=disconnect in ("true", "1")
        )
        return self.operation_answer(operation)

    @extend_schema(
        summary="The live view from the cluster (docker network inspect), a worker asks",
        responses={200: NetworkInspectSerializer(many=True), **errors(409, 503)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def inspect(self, request, pk=None):
        network = self.get_object()
        refusal = network_inspect_refusal(tenant=request.tenant, network=network)
        if refusal is not None:
            raise refusal
        answer = worker_answer(lambda: network_inspect(network=network, timeout=WORKER_TIMEOUT_SECONDS))
        return Response([answer])

    @extend_schema(
        summary="Connect a container to the network (docker network connect)",
        request=NetworkConnectSerializer,
        parameters=[WAIT],
        responses=accepted(OperationSerializer, 409),
    )
    @action(detail=True, methods=["post"])
    def connect(self, request, pk=None):
        network = self.get_object()
        data = valid(NetworkConnectSerializer, request)
        container = references.container_named(tenant=request.tenant, pk=data.pop("container"))
        operation = network_connect(
            actor=Actor.of(request), tenant=request.tenant, network=network, container=container, **data
        )
        return self.operation_answer(operation)

    @extend_schema(
        summary="Disconnect a container from the network (docker network disconnect)",
        request=NetworkDisconnectSerializer,
        parameters=[WAIT],
        responses=accepted(OperationSerializer, 409),
    )
    @action(detail=True, methods=["post"])
    def disconnect(self, request, pk=None):
        network = self.get_object()
        data = valid(NetworkDisconnectSerializer, request)
        container = references.container_named(tenant=request.tenant, pk=data.pop("container"))
        operation = network_disconnect(
            actor=Actor.of(request), tenant=request.tenant, network=network, container=container, **data
        )
        return self.operation_answer(operation)

    @extend_schema(
        summary="Share the network with another team of its cluster: it may run and connect containers on it",
        request=NetworkShareSerializer,
        responses={200: NetworkSerializer, **errors(403, 409)},
    )
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        require_manage(request, share_services.OWNERS_ONLY)
        network = self.get_object()
        data = valid(NetworkShareSerializer, request)
        share_services.network_share(
            actor=Actor.of(request), tenant=request.tenant, network=network, with_tenant=data["tenant"]
        )
        return Response(self.get_serializer(self.network_row(network.pk)).data)

    @extend_schema(
        summary="Stop sharing the network with a team (refused while its containers are attached, unless disconnect)",
        request=NetworkUnshareSerializer,
        responses={200: OperationBatchSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def unshare(self, request, pk=None):
        require_manage(request, share_services.OWNERS_ONLY)
        network = self.get_object()
        data = valid(NetworkUnshareSerializer, request)
        operations = share_services.network_unshare(
            actor=Actor.of(request),
            tenant=request.tenant,
            network=network,
            with_tenant=data["tenant"],
            disconnect=data["disconnect"],
        )
        body = {"count": len(operations), "operations": [operation_as_row(operation) for operation in operations]}
        return Response(OperationBatchSerializer(body, context=self.get_serializer_context()).data)
