"""The REST mirror: thin viewsets over the same selectors and services as the UI.

A view checks the request's shape with a serializer, finds objects through tenant-scoped
selectors, calls a service and answers; refusals are the services' sentences in the API's one
error shape (errors.py). Calls that change the cluster answer 202 with the operation (base.py).
"""

from __future__ import annotations

import time

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from networks import ipam, selectors
from networks.audit import audited, cluster_audited, registry_login_audited
from networks.bundles import Bundle, bundle_given
from networks.filters import ContainerFilterSet, NetworkFilterSet, OperationFilterSet
from networks.models import Cluster
from networks.services import clusters as cluster_services
from networks.services import containers as container_services
from networks.services import networks as network_services
from networks.services import references
from networks.services import registries as registry_services
from networks.services import shares as share_services
from networks.services.diagnostics import container_diagnose
from networks.services.inspection import network_inspect_refusal
from networks.services.queue import worker_answer
from plumbing.api.errors import ErrorSerializer
from plumbing.api.fields import valid
from plumbing.api.parsers import JsonParser
from plumbing.api.schema import errors
from plumbing.errors import ServiceError, found, not_found
from portal.api.base import StaffPermission, TenantViewSet
from portal.tenancy import require_manage

from . import serializers as s
from .base import BaseViewSet, operation_wait_until_finished
from .schema import IDEMPOTENCY_KEY, WAIT, accepted

WORKER_TIMEOUT_SECONDS = 20


def require_owner(request) -> None:
    require_manage(request, share_services.OWNERS_ONLY)


# --- clusters ---------------------------------------------------------------------------------


STAFF_ACTIONS = {"create", "destroy", "credentials", "test"}
CREDENTIALS_BODY = {
    "multipart/form-data": s.ClusterCredentialsSerializer,
    "application/json": s.ClusterCredentialsSerializer,
}


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

    serializer_class = s.ClusterSerializer
    parser_classes = [JsonParser, MultiPartParser]  # a bundle is uploaded as a file
    noun = "cluster"
    selector_get = staticmethod(selectors.cluster_get)
    ordering_fields = ["name", "created"]
    ordering = ["name"]

    def scoped_queryset(self):
        return selectors.cluster_list_with_agents(tenant=self.request.tenant)

    def get_permissions(self):
        if self.action in STAFF_ACTIONS:
            return [permissions.IsAuthenticated(), StaffPermission()]
        return super().get_permissions()

    def get_object(self):
        if self.action not in STAFF_ACTIONS:
            return super().get_object()
        return found(selectors.cluster_get_for_staff, self.noun, pk=self.kwargs["pk"])

    def staff_body(self, cluster: Cluster) -> dict:
        return s.ClusterSerializer(
            selectors.cluster_get_for_staff(pk=cluster.pk), context=self.get_serializer_context()
        ).data

    @extend_schema(
        summary="Register a cluster from its credentials bundle (staff): a worker connects before anything is saved",
        request={"multipart/form-data": s.ClusterRegisterSerializer, "application/json": s.ClusterRegisterSerializer},
        responses={201: s.ClusterSerializer, **errors(409, 503)},
    )
    def create(self, request):
        data = valid(s.ClusterRegisterSerializer, request)
        tenant = cluster_services.cluster_first_tenant(slug=data["tenant"], default=request.tenant)
        bundle = bundle_of(data)
        cluster = worker_answer(
            lambda: cluster_services.cluster_register_ask(
                tenant=tenant, bundle=bundle, name=data["name"], registry=data["registry"], user=request.user
            )
        )
        cluster_audited(request, "cluster.register", cluster, tenant=tenant)
        return Response(self.staff_body(cluster), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rotate the cluster's credentials (staff): a new bundle of the same swarm; the old one stops at once",
        request=CREDENTIALS_BODY,
        responses={200: s.ClusterSerializer, **errors(409, 503)},
    )
    @action(detail=True, methods=["post"])
    def credentials(self, request, pk=None):
        cluster = self.get_object()
        bundle = bundle_of(valid(s.ClusterCredentialsSerializer, request))
        worker_answer(lambda: cluster_services.cluster_credentials_rotate_ask(cluster=cluster, bundle=bundle))
        cluster_audited(request, "cluster.rotate", cluster)
        return Response(self.staff_body(cluster))

    @extend_schema(
        summary="Test the connection with the stored credentials (staff): same swarm? health refreshed (a worker asks)",
        request=None,
        responses={200: s.ClusterTestSerializer, **errors(503)},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        cluster = self.get_object()
        answer = worker_answer(lambda: cluster_services.cluster_test_ask(cluster=cluster))
        return Response(s.ClusterTestSerializer(answer).data)

    @extend_schema(
        summary="Deregister the cluster (staff): refused while teams have networks or containers on it",
        responses={204: None, **errors(409)},
    )
    def destroy(self, request, pk=None):
        cluster = self.get_object()
        cluster_services.cluster_deregister(cluster=cluster)
        cluster_audited(request, "cluster.deregister", cluster)
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
        responses={200: s.CapacitySerializer},
    )
    @action(detail=True, methods=["get"])
    def capacity(self, request, pk=None):
        cluster = self.get_object()
        raw = request.query_params.get("prefixlen")
        prefixlen = None
        if raw not in (None, ""):
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
                raise ServiceError("bad_prefixlen", "prefixlen is a whole number such as 24.", field="prefixlen")
            prefixlen = int(raw)  # a size the pool cannot give is refused with the range it can
        capacity = selectors.cluster_capacity(cluster=cluster, prefixlen=prefixlen)
        data = {
            "prefixlen": capacity.prefixlen,
            "total_blocks": capacity.total_blocks,
            "used_blocks": capacity.used_blocks,
            "reserved_blocks": capacity.reserved_blocks,
            "free_blocks": capacity.free_blocks,
            "next_block": str(capacity.next_block) if capacity.next_block else None,
            "allocations": selectors.subnet_allocation_list(tenant=request.tenant, cluster=cluster),
            "reserved_ranges": cluster.reserved_ranges.all(),
        }
        return Response(s.CapacitySerializer(data).data)

    @extend_schema(
        summary="Ask the cluster now: swarm nodes ready, Consul leader and live agents (a worker asks)",
        responses={200: s.LiveHealthSerializer, **errors(503)},
    )
    @action(detail=True, methods=["get"])
    def health(self, request, pk=None):
        cluster = self.get_object()
        answer = worker_answer(
            lambda: cluster_services.cluster_refresh_health_ask(cluster=cluster, timeout=WORKER_TIMEOUT_SECONDS)
        )
        return Response(s.LiveHealthSerializer(answer).data)


# --- networks ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The tenant's networks (docker network ls)"),
    retrieve=extend_schema(summary="A network, as the portal records it, with its containers"),
)
class NetworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.NetworkSerializer
    filterset_class = NetworkFilterSet
    noun = "network"
    selector_get = staticmethod(selectors.network_get)
    ordering_fields = ["name", "subnet", "status", "created", "updated"]
    ordering = ["name"]

    def scoped_queryset(self):
        return selectors.network_rows(tenant=self.request.tenant, columns=s.NetworkSerializer.columns())

    def paginate_queryset(self, queryset):
        return selectors.network_rows_with_containers(super().paginate_queryset(queryset))

    def network_row(self, pk) -> dict:
        """The network as the API shows it (get_object is the model, for the calls that change it)."""
        rows = selectors.network_rows_with_containers(list(self.get_queryset().filter(pk=pk)))
        if not rows:
            raise not_found(self.noun)
        return rows[0]

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.network_row(pk)).data)

    @extend_schema(
        summary="Create an overlay network (docker network create)",
        request=s.NetworkCreateSerializer,
        parameters=[WAIT, IDEMPOTENCY_KEY],
        responses=accepted(s.OperationSerializer, 409, 422),
    )
    def create(self, request):
        data = valid(s.NetworkCreateSerializer, request)

        def create():
            cluster = references.cluster_named(tenant=request.tenant, pk=data.pop("cluster", None))
            operation = network_services.network_create(
                tenant=request.tenant, cluster=cluster, user=request.user, **data
            )
            return audited(request, "network.create", operation)

        return self.idempotent_create(create)

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
        responses=accepted(s.OperationSerializer, 409),
    )
    def destroy(self, request, pk=None):
        disconnect = request.query_params.get("disconnect", "").lower()
        if disconnect not in ("", "true", "false", "1", "0"):
            raise ServiceError("bad_disconnect", "disconnect is true or false.", field="disconnect")
        network = self.get_object()
        operation = network_services.network_remove(
            tenant=request.tenant, network=network, user=request.user, disconnect=disconnect in ("true", "1")
        )
        audited(request, "network.remove", operation, obj=network)
        return self.operation_answer(operation)

    @extend_schema(
        summary="The live view from the cluster (docker network inspect), a worker asks",
        responses={200: s.NetworkInspectSerializer(many=True), **errors(409, 503)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def inspect(self, request, pk=None):
        network = self.get_object()
        refusal = network_inspect_refusal(tenant=request.tenant, network=network)
        if refusal is not None:
            raise refusal
        answer = worker_answer(
            lambda: network_services.network_inspect(network=network, timeout=WORKER_TIMEOUT_SECONDS)
        )
        return Response([answer])

    @extend_schema(
        summary="Connect a container to the network (docker network connect)",
        request=s.NetworkConnectSerializer,
        parameters=[WAIT],
        responses=accepted(s.OperationSerializer, 409),
    )
    @action(detail=True, methods=["post"])
    def connect(self, request, pk=None):
        network = self.get_object()
        data = valid(s.NetworkConnectSerializer, request)
        container = references.container_named(tenant=request.tenant, pk=data.pop("container"))
        operation = network_services.network_connect(
            tenant=request.tenant, network=network, container=container, user=request.user, **data
        )
        audited(request, "network.connect", operation, obj=network)
        return self.operation_answer(operation)

    @extend_schema(
        summary="Disconnect a container from the network (docker network disconnect)",
        request=s.NetworkDisconnectSerializer,
        parameters=[WAIT],
        responses=accepted(s.OperationSerializer, 409),
    )
    @action(detail=True, methods=["post"])
    def disconnect(self, request, pk=None):
        network = self.get_object()
        data = valid(s.NetworkDisconnectSerializer, request)
        container = references.container_named(tenant=request.tenant, pk=data.pop("container"))
        operation = network_services.network_disconnect(
            tenant=request.tenant, network=network, container=container, user=request.user, **data
        )
        audited(request, "network.disconnect", operation, obj=network)
        return self.operation_answer(operation)

    @extend_schema(
        summary="Share the network with another team of its cluster: it may run and connect containers on it",
        request=s.NetworkShareSerializer,
        responses={200: s.NetworkSerializer, **errors(403, 409)},
    )
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        require_owner(request)
        network = self.get_object()
        data = valid(s.NetworkShareSerializer, request)
        share_services.network_share(
            tenant=request.tenant, network=network, with_tenant=data["tenant"], user=request.user
        )
        audited(request, "network.share", None, obj=network, details={"with": data["tenant"]})
        return Response(self.get_serializer(self.network_row(network.pk)).data)

    @extend_schema(
        summary="Stop sharing the network with a team (refused while its containers are attached, unless disconnect)",
        request=s.NetworkUnshareSerializer,
        responses={200: s.OperationBatchSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def unshare(self, request, pk=None):
        require_owner(request)
        network = self.get_object()
        data = valid(s.NetworkUnshareSerializer, request)
        operations = share_services.network_unshare(
            tenant=request.tenant,
            network=network,
            with_tenant=data["tenant"],
            user=request.user,
            disconnect=data["disconnect"],
        )
        audited(request, "network.unshare", operations, obj=network, details={"with": data["tenant"]})
        body = {"count": len(operations), "operations": operations}
        return Response(s.OperationBatchSerializer(body, context=self.get_serializer_context()).data)


# --- containers -------------------------------------------------------------------------------

CONTAINER_ACTION = {"request": None, "parameters": [WAIT], "responses": accepted(s.OperationSerializer, 409)}


@extend_schema_view(
    list=extend_schema(summary="The tenant's containers and its clusters' system containers (docker ps -a)"),
    retrieve=extend_schema(summary="A container: masked environment, published ports and exposure, networks"),
)
class ContainerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.ContainerSerializer
    filterset_class = ContainerFilterSet
    noun = "container"
    selector_get = staticmethod(selectors.container_get)
    ordering_fields = ["name", "status", "image", "created", "updated"]
    ordering = ["name"]

    def scoped_queryset(self):
        return selectors.container_list(tenant=self.request.tenant).distinct()

    @extend_schema(
        summary="Run a container (docker run --detach): private unless ports are published",
        request=s.ContainerRunSerializer,
        parameters=[WAIT, IDEMPOTENCY_KEY],
        responses=accepted(s.OperationSerializer, 409, 422),
    )
    def create(self, request):
        data = valid(s.ContainerRunSerializer, request)

        def create():
            cluster = references.cluster_named(tenant=request.tenant, pk=data.pop("cluster", None))
            networks = [
                {
                    **spec,
                    "network": references.network_named(
                        tenant=request.tenant, cluster=cluster, ref=spec["network"], field="networks"
                    ),
                }
                for spec in data.pop("networks")
            ]
            node = references.node_named(cluster=cluster, name=data.pop("node"))
            operation = container_services.container_run(
                tenant=request.tenant,
                cluster=cluster,
                user=request.user,
                networks=networks,
                node=node,
                environment=[dict(item) for item in data.pop("environment")],
                **data,
            )
            return audited(request, "container.run", operation)

        return self.idempotent_create(create)

    @extend_schema(summary="Remove the container (docker rm -f)", **CONTAINER_ACTION)
    def destroy(self, request, pk=None):
        return self._act("remove")

    @extend_schema(
        summary="Which public address a container port answers on (docker port CONTAINER [PORT])",
        parameters=[
            OpenApiParameter(
                "port", OpenApiTypes.STR, description="PORT or PORT/PROTOCOL, e.g. 80 or 53/udp; empty for all."
            )
        ],
        responses={
            200: s.PortAnswerSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description="No such container, or `Error: No public port '3306/tcp' published`."
            ),
        },
    )
    @action(detail=True, methods=["get"])
    def port(self, request, pk=None):
        container = self.get_object()
        port = (request.query_params.get("port") or "").strip()
        lines = container_services.container_port_query(container=container, port=port)
        spec = (port if "/" in port else f"{port}/tcp") if port else None
        return Response(s.PortAnswerSerializer({"container": container.name, "port": spec, "lines": lines}).data)

    def _act(self, action_name: str) -> Response:
        operation = container_services.container_action_request(
            tenant=self.request.tenant, container=self.get_object(), action=action_name, user=self.request.user
        )
        audited(self.request, f"container.{action_name}", operation)
        return self.operation_answer(operation)

    @extend_schema(summary="Stop the container (docker stop)", **CONTAINER_ACTION)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return self._act("stop")

    @extend_schema(summary="Start the container (docker start)", **CONTAINER_ACTION)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._act("start")

    @extend_schema(summary="Restart the container (docker restart)", **CONTAINER_ACTION)
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        return self._act("restart")

    @extend_schema(summary="Remove the container (docker rm -f)", **CONTAINER_ACTION)
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        return self._act("remove")

    @extend_schema(
        summary='Remove every exited container of the tenant (docker rm $(docker ps -qf "status=exited"))',
        request=None,
        parameters=[WAIT],
        responses={
            202: OpenApiResponse(s.OperationBatchSerializer, description="One queued removal per exited container."),
            200: OpenApiResponse(
                s.OperationBatchSerializer, description="Nothing to remove, or with ?wait= all removals have ended."
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="remove-exited")
    def remove_exited(self, request):
        operations = container_services.container_remove_exited(tenant=request.tenant, user=request.user)
        audited(request, "container.remove_exited", operations)
        deadline = time.monotonic() + self.wait
        for operation in operations if self.wait else []:
            operation_wait_until_finished(operation, max(0.0, deadline - time.monotonic()))
        finished = all(operation.is_finished for operation in operations)
        body = {"count": len(operations), "operations": operations}
        code = status.HTTP_200_OK if finished and (self.wait or not operations) else status.HTTP_202_ACCEPTED
        return Response(s.OperationBatchSerializer(body, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary="DNS and reachability checks run inside the container (nslookup, nc), a worker runs them",
        request=s.DiagnoseSerializer,
        responses={200: s.DiagnosticsSerializer, **errors(409, 503)},
    )
    @action(detail=True, methods=["post"])
    def diagnose(self, request, pk=None):
        container = self.get_object()
        data = valid(s.DiagnoseSerializer, request)
        answer = worker_answer(
            lambda: container_diagnose(
                tenant=request.tenant, container=container, timeout=WORKER_TIMEOUT_SECONDS, **data
            )
        )
        return Response(s.DiagnosticsSerializer(answer).data)


# --- operations -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The tenant's operations, newest first"),
    retrieve=extend_schema(summary="An operation: status, progress messages, result or error sentence"),
)
class OperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.OperationSerializer
    filterset_class = OperationFilterSet
    noun = "operation"
    selector_get = staticmethod(selectors.operation_get)
    ordering_fields = ["created", "finished", "status", "kind"]
    ordering = ["-created", "-id"]

    def scoped_queryset(self):
        return selectors.operation_list(tenant=self.request.tenant)


# --- registry logins --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The team's logins to private registries (never their passwords)"),
    retrieve=extend_schema(summary="A registry login (never its password)"),
)
class RegistryLoginViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Every member reads them; owners add, replace and remove them. Nothing here reaches a cluster."""

    serializer_class = s.RegistryLoginSerializer
    noun = "registry login"
    role_required = "manage"
    manage_refusal = registry_services.OWNERS_ONLY
    selector_get = staticmethod(selectors.registry_login_get)
    ordering_fields = ["registry", "username", "created", "updated"]
    ordering = ["registry"]

    def scoped_queryset(self):
        return selectors.registry_login_list(tenant=self.request.tenant)

    @extend_schema(
        summary="Add a login, or replace the team's login for that registry (the password is write-only)",
        request=s.RegistryLoginCreateSerializer,
        responses={201: s.RegistryLoginSerializer},
    )
    def create(self, request):
        data = valid(s.RegistryLoginCreateSerializer, request)
        login = registry_services.registry_login_set(tenant=request.tenant, **data)
        registry_login_audited(request, "registry_login.set", login)
        return Response(s.RegistryLoginSerializer(login).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove a login: images from that registry are pulled without one", responses={204: None})
    def destroy(self, request, pk=None):
        login = self.get_object()
        login_id = login.pk
        registry_services.registry_login_remove(login=login)
        registry_login_audited(request, "registry_login.remove", login, login_id=login_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
