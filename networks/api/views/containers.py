"""Containers over the API: run (private unless ports are published), the lifecycle actions, the
port query, removing every exited container at once, and the checks run from inside one."""

from __future__ import annotations

import time

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from networks.filters import ContainerFilterSet
from networks.selectors.containers import container_get, container_list
from networks.selectors.operations import operation_as_row
from networks.services import references
from networks.services.containers.lifecycle import container_action_request, container_remove_exited
from networks.services.containers.logs import MAX_TAIL, container_logs, parse_log_query
from networks.services.containers.run import container_run
from networks.services.containers.state import container_port_query
from networks.services.diagnostics import container_diagnose
from networks.services.queue import worker_answer
from plumbing.api.errors import ErrorSerializer
from plumbing.api.fields import valid
from plumbing.api.schema import errors
from portal.actors import Actor

from ..schema import IDEMPOTENCY_KEY, WAIT, accepted
from ..serializers.containers import (
    ContainerRunSerializer,
    ContainerSerializer,
    DiagnoseSerializer,
    DiagnosticsSerializer,
    LogsSerializer,
    PortAnswerSerializer,
)
from ..serializers.operations import OperationBatchSerializer, OperationSerializer
from .base import WORKER_TIMEOUT_SECONDS, BaseViewSet, operation_wait_until_finished

CONTAINER_ACTION = {"request": None, "parameters": [WAIT], "responses": accepted(OperationSerializer, 409)}


@extend_schema_view(
    list=extend_schema(summary="The tenant's containers and its clusters' system containers (docker ps -a)"),
    retrieve=extend_schema(summary="A container: masked environment, published ports and exposure, networks"),
)
class ContainerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = ContainerSerializer
    filterset_class = ContainerFilterSet
    noun = "container"
    selector_get = staticmethod(container_get)

    def scoped_queryset(self):
        return container_list(tenant=self.request.tenant).distinct()

    @extend_schema(
        summary="Run a container (docker run --detach): private unless ports are published",
        request=ContainerRunSerializer,
        parameters=[WAIT, IDEMPOTENCY_KEY],
        responses=accepted(OperationSerializer, 409, 422),
    )
    def create(self, request):
        data = valid(ContainerRunSerializer, request)

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
            return container_run(
                actor=Actor.of(request),
                tenant=request.tenant,
                cluster=cluster,
                networks=networks,
                node=node,
                environment=[dict(item) for item in data.pop("environment")],
                **data,
            )

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
            200: PortAnswerSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description="No such container, or `Error: No public port '3306/tcp' published`."
            ),
        },
    )
    @action(detail=True, methods=["get"])
    def port(self, request, pk=None):
        container = self.get_object()
        port = (request.query_params.get("port") or "").strip()
        lines = container_port_query(container=container, port=port)
        spec = (port if "/" in port else f"{port}/tcp") if port else None
        return Response(PortAnswerSerializer({"container": container.name, "port": spec, "lines": lines}).data)

    def _act(self, action_name: str) -> Response:
        operation = container_action_request(
            actor=Actor.of(self.request), tenant=self.request.tenant, container=self.get_object(), action=action_name
        )
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
            202: OpenApiResponse(OperationBatchSerializer, description="One queued removal per exited container."),
            200: OpenApiResponse(
                OperationBatchSerializer, description="Nothing to remove, or with ?wait= all removals have ended."
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="remove-exited")
    def remove_exited(self, request):
        operations = container_remove_exited(actor=Actor.of(request), tenant=request.tenant)
        deadline = time.monotonic() + self.wait
        for operation in operations if self.wait else []:
            operation_wait_until_finished(operation, max(0.0, deadline - time.monotonic()))
        finished = all(operation.is_finished for operation in operations)
        body = {"count": len(operations), "operations": [operation_as_row(operation) for operation in operations]}
        code = status.HTTP_200_OK if finished and (self.wait or not operations) else status.HTTP_202_ACCEPTED
        return Response(OperationBatchSerializer(body, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary="DNS and reachability checks run inside the container (nslookup, nc), a worker runs them",
        request=DiagnoseSerializer,
        responses={200: DiagnosticsSerializer, **errors(409, 503)},
    )
    @action(detail=True, methods=["post"])
    def diagnose(self, request, pk=None):
        container = self.get_object()
        data = valid(DiagnoseSerializer, request)
        answer = worker_answer(
            lambda: container_diagnose(
                tenant=request.tenant, container=container, timeout=WORKER_TIMEOUT_SECONDS, **data
            )
        )
        return Response(DiagnosticsSerializer(answer).data)

    @extend_schema(
        summary="The container's last log lines (docker logs --timestamps --tail N --since T), a worker reads them",
        parameters=[
            OpenApiParameter(
                "tail", OpenApiTypes.INT, description=f"How many of the last lines: 1 to {MAX_TAIL} (200)."
            ),
            OpenApiParameter(
                "since",
                OpenApiTypes.STR,
                description="Only lines after this time: ISO 8601 (2026-12-05T10:00:00Z) or a number of seconds ago.",
            ),
            OpenApiParameter("timestamps", OpenApiTypes.BOOL, description="Each line's time (true) or null."),
            OpenApiParameter(
                "follow",
                OpenApiTypes.BOOL,
                description="Long poll: hold the request up to 20 s until a line after since comes.",
            ),
        ],
        responses={200: LogsSerializer, **errors(403, 409, 503)},
    )
    @action(detail=True, methods=["get"])
    def logs(self, request, pk=None):
        container = self.get_object()
        query = parse_log_query(request.query_params)
        answer = worker_answer(
            lambda: container_logs(
                tenant=request.tenant, container=container, query=query, timeout=WORKER_TIMEOUT_SECONDS
            )
        )
        return Response(LogsSerializer(answer).data)
