"""Clusters over the API: teams read theirs (nodes, health, capacity); staff register, test, rotate
credentials and deregister any cluster, a worker asking the swarm where a call needs it."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from networks import ipam
from networks.bundles import Bundle, bundle_given
from networks.models import Cluster
from networks.selectors.allocations import (
    AVAILABLE_MAX,
    available_prefixes,
    cluster_capacity,
    subnet_allocation_list,
)
from networks.selectors.clusters import cluster_get, cluster_get_for_staff, cluster_list_with_agents
from networks.services.clusters.health import cluster_refresh_health_ask, cluster_test_ask
from networks.services.clusters.registration import cluster_deregister, cluster_first_tenant, cluster_register_ask
from networks.services.clusters.rotation import cluster_credentials_rotate_ask
from networks.services.queue import worker_answer
from plumbing.api.fields import valid
from plumbing.api.parsers import JsonParser
from plumbing.api.schema import errors
from plumbing.errors import ServiceError, found
from portal.actors import Actor
from portal.api.base import StaffPermission

from ..serializers.clusters import (
    AvailablePrefixSerializer,
    CapacitySerializer,
    ClusterCredentialsSerializer,
    ClusterRegisterSerializer,
    ClusterSerializer,
    ClusterTestSerializer,
    LiveHealthSerializer,
)
from .base import WORKER_TIMEOUT_SECONDS, BaseViewSet

STAFF_ACTIONS = {"create", "destroy", "credentials", "test"}
CREDENTIALS_BODY = {
    "multipart/form-data": ClusterCredentialsSerializer,
    "application/json": ClusterCredentialsSerializer,
}


def query_number(request, name: str, sentence: str) -> int | None:
    """A whole number in the query string (None when left out); anything else is a 400 with `sentence`."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
        raise ServiceError(f"bad_{name}", sentence, field=name)
    return int(raw)


def query_prefixlen(request) -> int | None:
    """`?prefixlen=`; a size the pool cannot give is refused by the selector with the range it can."""
    return query_number(request, "prefixlen", "prefixlen is a whole number such as 24.")


def bundle_of(data: dict) -> Bundle:
    return bundle_given(
        upload=data.get("bundle"),
        docker_host=data["docker_host"],
        ca_pem=data["ca_pem"],
        cert_pem=data["cert_pem"],
        key_pem=data["key_pem"],
        consul_token=data["consul_token"],
    )


@extend_schema_view(
    list=extend_schema(summary="The tenant's clusters, with their nodes, health and credentials' public facts"),
    retrieve=extend_schema(summary="A cluster, its nodes and their last known health"),
)
class ClusterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Teams read their clusters; staff register, test, rotate and deregister any cluster."""

    serializer_class = ClusterSerializer
    parser_classes = [JsonParser, MultiPartParser]  # a bundle is uploaded as a file
    noun = "cluster"
    selector_get = staticmethod(cluster_get)
    ordering_fields = ["name", "created"]
    ordering = ["name"]

    def scoped_queryset(self):
        return cluster_list_with_agents(tenant=self.request.tenant)

    def get_permissions(self):
        if self.action in STAFF_ACTIONS:
            return [permissions.IsAuthenticated(), StaffPermission()]
        return super().get_permissions()

    def get_object(self):
        if self.action not in STAFF_ACTIONS:
            return super().get_object()
        return found(cluster_get_for_staff, self.noun, pk=self.kwargs["pk"])

    def staff_body(self, cluster: Cluster) -> dict:
        return ClusterSerializer(cluster_get_for_staff(pk=cluster.pk), context=self.get_serializer_context()).data

    @extend_schema(
        summary="Register a cluster from its credentials bundle (staff): a worker connects before anything is saved",
        request={"multipart/form-data": ClusterRegisterSerializer, "application/json": ClusterRegisterSerializer},
        responses={201: ClusterSerializer, **errors(409, 503)},
    )
    def create(self, request):
        data = valid(ClusterRegisterSerializer, request)
        tenant = cluster_first_tenant(slug=data["tenant"], default=request.tenant)
        bundle = bundle_of(data)
        cluster = worker_answer(
            lambda: cluster_register_ask(
                actor=Actor.of(request), tenant=tenant, bundle=bundle, name=data["name"], registry=data["registry"]
            )
        )
        return Response(self.staff_body(cluster), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rotate the cluster's credentials (staff): a new bundle of the same swarm; the old one stops at once",
        request=CREDENTIALS_BODY,
        responses={200: ClusterSerializer, **errors(409, 503)},
    )
    @action(detail=True, methods=["post"])
    def credentials(self, request, pk=None):
        cluster = self.get_object()
        bundle = bundle_of(valid(ClusterCredentialsSerializer, request))
        worker_answer(lambda: cluster_credentials_rotate_ask(actor=Actor.of(request), cluster=cluster, bundle=bundle))
        return Response(self.staff_body(cluster))

    @extend_schema(
        summary="Test the connection with the stored credentials (staff): same swarm? health refreshed (a worker asks)",
        request=None,
        responses={200: ClusterTestSerializer, **errors(503)},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        cluster = self.get_object()
        answer = worker_answer(lambda: cluster_test_ask(cluster=cluster))
        return Response(ClusterTestSerializer(answer).data)

    @extend_schema(
        summary="Deregister the cluster (staff): refused while teams have networks or containers on it",
        responses={204: None, **errors(409)},
    )
    def destroy(self, request, pk=None):
        cluster = self.get_object()
        cluster_deregister(actor=Actor.of(request), cluster=cluster)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Subnet capacity: blocks used, free and reserved, and who holds each allocation",
        parameters=[
            OpenApiParameter(
                "prefixlen",
                {"type": "integer", "minimum": ipam.MIN_PREFIXLEN, "maximum": ipam.MAX_PREFIXLEN},
                description=f"Count blocks of this size ({ipam.MIN_PREFIXLEN}-{ipam.MAX_PREFIXLEN}, and no larger "
                "than the pool); default the cluster's.",
            )
        ],
        responses={200: CapacitySerializer},
    )
    @action(detail=True, methods=["get"])
    def capacity(self, request, pk=None):
        cluster = self.get_object()
        capacity = cluster_capacity(cluster=cluster, prefixlen=query_prefixlen(request))
        data = {
            "prefixlen": capacity.prefixlen,
            "total_blocks": capacity.total_blocks,
            "used_blocks": capacity.used_blocks,
            "reserved_blocks": capacity.reserved_blocks,
            "free_blocks": capacity.free_blocks,
            "next_block": str(capacity.next_block) if capacity.next_block else None,
            "allocations": subnet_allocation_list(tenant=request.tenant, cluster=cluster),
            "reserved_ranges": cluster.reserved_ranges.all(),
        }
        return Response(CapacitySerializer(data).data)

    @extend_schema(
        summary="The next free blocks of a size, in the order creates hand them out (NetBox's available-prefixes)",
        parameters=[
            OpenApiParameter(
                "prefixlen",
                int,
                description=f"Blocks of this size ({ipam.MIN_PREFIXLEN}-{ipam.MAX_PREFIXLEN}, and no larger than the "
                "pool); default the cluster's.",
            ),
            OpenApiParameter("limit", int, description=f"How many, 1 to {AVAILABLE_MAX}; default 10."),
        ],
        responses={200: AvailablePrefixSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], url_path="available-prefixes", pagination_class=None)  # a list of 1-100
    def available_prefixes(self, request, pk=None):
        cluster = self.get_object()
        limit = query_number(request, "limit", f"limit is a whole number from 1 to {AVAILABLE_MAX}, such as 10.")
        if limit is not None and not 1 <= limit <= AVAILABLE_MAX:
            raise ServiceError(
                "bad_limit", f"limit is a whole number from 1 to {AVAILABLE_MAX}, such as 10.", field="limit"
            )
        blocks = available_prefixes(cluster=cluster, prefixlen=query_prefixlen(request), limit=limit or 10)
        rows = [
            {"prefix": str(block), "gateway": str(ipam.default_gateway(block)), "addresses": block.num_addresses - 2}
            for block in blocks
        ]
        return Response(AvailablePrefixSerializer(rows, many=True).data)

    @extend_schema(
        summary="Ask the cluster now: swarm nodes ready, Consul leader and live agents (a worker asks)",
        responses={200: LiveHealthSerializer, **errors(503)},
    )
    @action(detail=True, methods=["get"])
    def health(self, request, pk=None):
        cluster = self.get_object()
        answer = worker_answer(lambda: cluster_refresh_health_ask(cluster=cluster, timeout=WORKER_TIMEOUT_SECONDS))
        return Response(LiveHealthSerializer(answer).data)
