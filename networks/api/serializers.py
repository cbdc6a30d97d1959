"""Shapes of the REST mirror: strict request bodies (unknown fields and wrong types are 400s) and the answers.

Request serializers only check the shape; the rules and their sentences are the services'.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from networks.models import Cluster, Container, Endpoint, Network, Node, Operation
from networks.selectors import operation_waiting_for
from networks.services.containers import RESTART_POLICIES, masked_environment
from portal.models import ApiToken, Membership

MAX_ID = 2**63 - 1


# --- strict request fields --------------------------------------------------------------------


class Text(serializers.CharField):
    """A JSON string; DRF's CharField would also take 42 or 4.2 and turn it into text."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)  # the services trim, and say so when it matters
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    """A JSON integer: not "24", not 24.5, not true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class Id(Integer):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class Boolean(serializers.BooleanField):
    """A JSON true or false: not "yes", not 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class TextList(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("child", Text(allow_blank=True))
        kwargs.setdefault("default", list)
        super().__init__(**kwargs)


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}]})
class NetworkRef(serializers.Field):
    """A network of the tenant, by id (42) or by name ("mynetwork")."""

    default_error_messages = {"invalid": "Name a network by its id (a number) or its name (text)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)) or data in ("", 0):
            self.fail("invalid")
        if isinstance(data, int) and not 1 <= data <= MAX_ID:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo ("subent") is a 400 rather than silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                known = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {
                        unknown[0]: [
                            serializers.ErrorDetail(
                                f'Unknown field "{unknown[0]}". Known fields: {known}.', code="unknown_field"
                            )
                        ]
                    }
                )
        return super().to_internal_value(data)


# --- requests ---------------------------------------------------------------------------------


class NetworkCreateSerializer(StrictSerializer):
    cluster = Id(required=False, help_text="The cluster's id; leave it out when the tenant has one cluster.")
    name = Text(allow_blank=True, help_text="As `docker network create NAME`, e.g. mynetwork.")
    subnet = Text(
        required=False,
        allow_blank=True,
        default="",
        help_text="A CIDR such as 10.0.9.0/24; empty for the next free block.",
    )
    prefixlen = Integer(
        required=False, allow_null=True, min_value=0, max_value=128, help_text="Size of the next free block (16-29)."
    )
    gateway = Text(required=False, allow_blank=True, default="", help_text="Empty for the subnet's first address.")
    internal = Boolean(required=False, default=False)
    encrypted = Boolean(required=False, default=False)
    labels = serializers.DictField(child=Text(allow_blank=True), required=False, default=dict)


class NetworkConnectSerializer(StrictSerializer):
    container = Id(help_text="The container's id.")
    aliases = TextList(required=False, help_text="Extra DNS names of the container on this network.")
    ipv4_address = Text(required=False, allow_blank=True, default="", help_text="A static address in the subnet.")


class NetworkDisconnectSerializer(StrictSerializer):
    container = Id(help_text="The container's id.")
    force = Boolean(required=False, default=False)


class NetworkAttachSerializer(StrictSerializer):
    network = NetworkRef()
    aliases = TextList(required=False)
    ipv4_address = Text(required=False, allow_blank=True, default="")


class EnvironmentSerializer(StrictSerializer):
    name = Text(allow_blank=True)
    value = Text(required=False, allow_blank=True, default="")
    secret = Boolean(required=False, default=False, help_text="Secret values are never shown again, nor stored.")


class ContainerRunSerializer(StrictSerializer):
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


class MembershipCreateSerializer(StrictSerializer):
    username = Text(allow_blank=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False, default=Membership.Role.MEMBER)


class MembershipUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class ApiTokenCreateSerializer(StrictSerializer):
    name = Text(allow_blank=True, help_text="What will use the token, such as cli.")


# --- answers ----------------------------------------------------------------------------------


class NodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Node
        fields = ["id", "name", "address", "role", "state", "last_seen"]


class ClusterHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "degraded", "down", "unknown"])
    nodes_total = serializers.IntegerField()
    nodes_ready = serializers.IntegerField()


class ClusterSerializer(serializers.ModelSerializer):
    nodes = NodeSerializer(many=True, read_only=True)
    health = serializers.SerializerMethodField(help_text="From the nodes' last known states.")

    class Meta:
        model = Cluster
        fields = ["id", "name", "docker_endpoint", "consul_address", "address_pool", "default_prefixlen"]
        fields += ["nodes", "health", "created"]

    @extend_schema_field(ClusterHealthSerializer)
    def get_health(self, cluster) -> dict:
        states = [node.state for node in cluster.nodes.all()]
        ready = states.count(Node.State.READY)
        if states and ready == len(states):
            status = "healthy"
        elif ready:
            status = "degraded"
        elif Node.State.DOWN in states:
            status = "down"
        else:
            status = "unknown"
        return {"status": status, "nodes_total": len(states), "nodes_ready": ready}


class LiveHealthSerializer(serializers.Serializer):
    nodes_total = serializers.IntegerField()
    nodes_ready = serializers.IntegerField()
    consul_leader = serializers.BooleanField()
    consul_alive = serializers.ListField(child=serializers.CharField())


class AllocationSerializer(serializers.Serializer):
    cidr = serializers.CharField()
    kind = serializers.ChoiceField(choices=["network", "external"])
    owner = serializers.CharField(help_text='Who holds the block, e.g. network "mynetwork".')
    network = serializers.IntegerField(source="network_id", allow_null=True)


class ReservedRangeSerializer(serializers.Serializer):
    cidr = serializers.CharField()
    description = serializers.CharField()
    is_servicenet = serializers.BooleanField()


class CapacitySerializer(serializers.Serializer):
    prefixlen = serializers.IntegerField()
    total_blocks = serializers.IntegerField()
    used_blocks = serializers.IntegerField()
    reserved_blocks = serializers.IntegerField()
    free_blocks = serializers.IntegerField()
    next_block = serializers.CharField(allow_null=True, help_text="The block the next network gets; null when full.")
    allocations = AllocationSerializer(many=True)
    reserved_ranges = ReservedRangeSerializer(many=True)


class NetworkEndpointSerializer(serializers.ModelSerializer):
    container_name = serializers.CharField(source="container.name")

    class Meta:
        model = Endpoint
        fields = ["container", "container_name", "ipv4_address", "mac_address", "aliases"]


class NetworkSerializer(serializers.ModelSerializer):
    cluster_name = serializers.CharField(source="cluster.name")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    containers = NetworkEndpointSerializer(source="endpoints", many=True)

    class Meta:
        model = Network
        fields = ["id", "name", "cluster", "cluster_name", "subnet", "gateway", "internal", "encrypted", "labels"]
        fields += ["is_external", "docker_id", "status", "created_by", "created", "updated", "containers"]


class InspectIpamConfigSerializer(serializers.Serializer):
    Subnet = serializers.CharField(allow_null=True)
    Gateway = serializers.CharField(allow_null=True)


class InspectIpamSerializer(serializers.Serializer):
    Driver = serializers.CharField()
    Options = serializers.DictField(child=serializers.CharField(), allow_null=True)
    Config = InspectIpamConfigSerializer(many=True)


class InspectContainerSerializer(serializers.Serializer):
    Name = serializers.CharField(allow_null=True)
    EndpointID = serializers.CharField(allow_null=True)
    MacAddress = serializers.CharField(allow_null=True)
    IPv4Address = serializers.CharField(allow_null=True)
    IPv6Address = serializers.CharField(allow_null=True)


class NetworkInspectSerializer(serializers.Serializer):
    """`docker network inspect NAME`, one element, with the containers of every node."""

    Name = serializers.CharField()
    Id = serializers.CharField()
    Created = serializers.CharField(allow_null=True)
    Scope = serializers.CharField(allow_null=True)
    Driver = serializers.CharField(allow_null=True)
    EnableIPv6 = serializers.BooleanField()
    IPAM = InspectIpamSerializer()
    Internal = serializers.BooleanField()
    Attachable = serializers.BooleanField()
    Ingress = serializers.BooleanField()
    Containers = serializers.DictField(child=InspectContainerSerializer())
    Options = serializers.DictField(child=serializers.CharField())
    Labels = serializers.DictField(child=serializers.CharField())


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
        fields += ["restart_policy", "networks", "created", "updated"]

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


class ProgressSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    message = serializers.CharField()


class OperationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    progress = ProgressSerializer(many=True)
    params = serializers.DictField(help_text="What was asked for; never secret values.")
    result = serializers.DictField()
    waiting_for = serializers.SerializerMethodField(
        help_text='While queued, what it waits for: the task queue, a worker busy with N operations ahead, or the cluster; "" otherwise.'
    )

    class Meta:
        model = Operation
        fields = ["id", "url", "kind", "status", "waiting_for", "target", "cluster", "network", "container", "params"]
        fields += ["progress"]
        fields += ["result", "error", "error_code", "requested_by", "attempts", "created", "started", "finished"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, operation) -> str:
        return reverse("api:operation-detail", args=[operation.pk], request=self.context.get("request"))

    def get_waiting_for(self, operation) -> str:
        return operation_waiting_for(operation=operation)


class OperationBatchSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    operations = OperationSerializer(many=True)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created"]


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "last_used", "revoked", "is_active"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.SerializerMethodField(help_text="Shown this once; only its SHA-256 is kept.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_key(self, token) -> str:
        return self.context["key"]
