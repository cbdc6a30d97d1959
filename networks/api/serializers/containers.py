"""Containers in the REST mirror: the bodies of a run (its networks and environment) and of a
diagnosis, a container with its secrets masked and its ports, and the answers of `docker port` and the
diagnostics."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from networks.api.serializers.fields import NetworkRef
from networks.models import Container, Endpoint
from networks.services.containers.specs import RESTART_POLICIES, masked_environment
from plumbing.api.fields import Boolean, Id, Integer, StrictSerializer, Text, TextList


class NetworkAttachSerializer(StrictSerializer):
    class Meta:
        model = Endpoint

    network = NetworkRef()
    aliases = TextList(required=False)
    ipv4_address = Text(required=False, allow_blank=True, default="")


class EnvironmentSerializer(StrictSerializer):
    name = Text(allow_blank=True)
    value = Text(required=False, allow_blank=True, default="")
    secret = Boolean(required=False, default=False, help_text="Secret values are never shown again, nor stored.")


class ContainerRunSerializer(StrictSerializer):
    class Meta:
        model = Container

    cluster = Id(required=False, help_text="The cluster's id; leave it out when the tenant has one cluster.")
    name = Text(allow_blank=True, help_text="As `docker run --name`.")
    image = Text(allow_blank=True, help_text="An image present on the nodes, e.g. overlay-portal/tools:latest.")
    command = TextList(required=False)
    networks = serializers.ListField(
        child=NetworkAttachSerializer(),
        required=False,
        default=list,
        help_text="As `--net`; the first is joined at start.",
    )
    environment = serializers.ListField(child=EnvironmentSerializer(), required=False, default=list)
    ports = TextList(
        required=False, help_text="As `--publish`: HOST:CONTAINER[/udp]. Published ports expose the container."
    )
    publish_all = Boolean(required=False, default=False, help_text="As `--publish-all`.")
    restart_policy = serializers.ChoiceField(
        choices=RESTART_POLICIES,
        required=False,
        default="no",
        error_messages={"invalid_choice": f"Restart policy must be one of {', '.join(RESTART_POLICIES)}."},
    )
    node = Text(required=False, allow_blank=True, default="", help_text="A node's name; empty to spread.")


class DiagnoseSerializer(StrictSerializer):
    target = Text(allow_blank=True, help_text="A container or host name to resolve from inside the container.")
    port = Integer(required=False, allow_null=True, help_text="Also check that this TCP port answers.")


class ContainerEndpointSerializer(serializers.ModelSerializer):
    network_name = serializers.CharField(source="network.name")

    class Meta:
        model = Endpoint
        fields = ["network", "network_name", "ipv4_address", "mac_address", "aliases"]


class MaskedEnvironmentSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField(allow_blank=True, help_text="Secret values are shown as ••••••.")
    secret = serializers.BooleanField()


class RequestedPortSerializer(serializers.Serializer):
    host = serializers.IntegerField(allow_null=True)
    container = serializers.IntegerField()
    protocol = serializers.CharField()


class PublishedPortSerializer(serializers.Serializer):
    port = serializers.CharField(help_text="e.g. 80/tcp")
    host_ip = serializers.CharField()
    host_port = serializers.CharField()


class ContainerSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node.name", allow_null=True, default=None)
    node_address = serializers.CharField(source="node.address", allow_null=True, default=None)
    environment = serializers.SerializerMethodField()
    ports = RequestedPortSerializer(many=True, help_text="What was asked for with --publish.")
    published_ports = PublishedPortSerializer(many=True, help_text="What Docker published.")
    exposure = serializers.ListField(
        child=serializers.CharField(), help_text="NODE_ADDRESS:PORT -> CONTAINER_PORT for each published port."
    )
    is_exposed = serializers.BooleanField(help_text="Reachable from the Internet and ServiceNet.")
    restart_policy = serializers.SerializerMethodField()
    networks = ContainerEndpointSerializer(source="endpoints", many=True)

    class Meta:
        model = Container
        fields = ["id", "name", "cluster", "node", "node_address", "image", "command", "environment", "ports"]
        fields += ["publish_all", "published_ports", "exposure", "is_exposed", "is_system", "docker_id", "status"]
        fields += ["started_at", "finished_at", "exit_code", "restart_policy", "networks", "created", "updated"]

    @extend_schema_field(MaskedEnvironmentSerializer(many=True))
    def get_environment(self, container) -> list[dict]:
        return masked_environment(container)

    @extend_schema_field(OpenApiTypes.STR)
    def get_restart_policy(self, container) -> str:
        return (container.labels or {}).get("restart_policy", "no")


class PortAnswerSerializer(serializers.Serializer):
    container = serializers.CharField()
    port = serializers.CharField(allow_null=True, help_text="The port asked about, as PORT/PROTOCOL.")
    lines = serializers.ListField(
        child=serializers.CharField(), help_text="What `docker port` prints, with the node's address."
    )


class DiagnosticCheckSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["dns", "tcp"])
    command = serializers.CharField()
    exit_code = serializers.IntegerField()
    output = serializers.CharField(allow_blank=True)
    ok = serializers.BooleanField()
    summary = serializers.CharField()
    addresses = serializers.ListField(child=serializers.CharField(), required=False)


class DiagnosticsSerializer(serializers.Serializer):
    container = serializers.CharField()
    target = serializers.CharField()
    port = serializers.IntegerField(allow_null=True)
    ok = serializers.BooleanField()
    checks = DiagnosticCheckSerializer(many=True)


class LogLineSerializer(serializers.Serializer):
    time = serializers.CharField(
        allow_null=True, help_text="When Docker received the line (UTC, nanoseconds); null with timestamps=false."
    )
    stream = serializers.ChoiceField(choices=["stdout", "stderr"])
    line = serializers.CharField(allow_blank=True, help_text="The line; secret environment values read ••••••.")


class LogsSerializer(serializers.Serializer):
    container = serializers.CharField()
    lines = LogLineSerializer(many=True, help_text="Oldest first.")
    next_since = serializers.CharField(
        allow_null=True, help_text="The time of the last line: pass it as since (with follow=true) for what comes next."
    )
