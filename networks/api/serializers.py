"""Shapes of the REST mirror: strict request bodies (unknown fields and wrong types are 400s) and the answers.

Request serializers only check the shape; the rules and their sentences are the services'.
"""

from __future__ import annotations

import datetime
from functools import cached_property

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from networks import ipam
from networks.models import Cluster, Container, Endpoint, Network, Node, Operation, RegistryLogin
from networks.selectors.clusters import cluster_credentials, cluster_usage
from networks.selectors.health import cluster_health_of
from networks.selectors.operations import operation_waiting_for
from networks.services.containers import RESTART_POLICIES, masked_environment
from networks.services.registries import NAME_MAX_LENGTH, REGISTRY_PASSWORD_MAX_LENGTH
from plumbing.api.fields import Boolean, Id, Integer, StrictSerializer, Text, TextList
from plumbing.api.rows import RowSerializer
from plumbing.inputs import MAX_ID

PREFIXLEN_RANGE = (
    f"prefixlen is a network's size from {ipam.MIN_PREFIXLEN} to {ipam.MAX_PREFIXLEN} (no larger than the cluster's "
    "pool), such as 24 for 254 addresses; leave it out for the cluster's default."
)

# --- strict request fields --------------------------------------------------------------------


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


# --- requests ---------------------------------------------------------------------------------


class NetworkCreateSerializer(StrictSerializer):
    class Meta:
        model = Network  # its columns bound the text fields of the same name (StrictSerializer)

    cluster = Id(required=False, help_text="The cluster's id; leave it out when the tenant has one cluster.")
    name = Text(allow_blank=True, help_text="As `docker network create NAME`, e.g. mynetwork.")
    subnet = Text(
        required=False,
        allow_blank=True,
        default="",
        help_text="A CIDR such as 10.0.9.0/24; empty for the next free block.",
    )
    prefixlen = Integer(
        required=False,
        allow_null=True,
        min_value=ipam.MIN_PREFIXLEN,
        max_value=ipam.MAX_PREFIXLEN,
        error_messages={"min_value": PREFIXLEN_RANGE, "max_value": PREFIXLEN_RANGE},
        help_text=f"Size of the next free block, /{ipam.MIN_PREFIXLEN} to /{ipam.MAX_PREFIXLEN} and no larger than "
        "the cluster's pool; leave it out (or null) for the cluster's default.",
    )
    gateway = Text(required=False, allow_blank=True, default="", help_text="Empty for the subnet's first address.")
    internal = Boolean(required=False, default=False)
    encrypted = Boolean(required=False, default=False)
    labels = serializers.DictField(child=Text(allow_blank=True), required=False, default=dict)


class NetworkConnectSerializer(StrictSerializer):
    class Meta:
        model = Endpoint

    container = Id(help_text="The container's id.")
    aliases = TextList(required=False, help_text="Extra DNS names of the container on this network.")
    ipv4_address = Text(required=False, allow_blank=True, default="", help_text="A static address in the subnet.")


class NetworkDisconnectSerializer(StrictSerializer):
    container = Id(help_text="The container's id.")
    force = Boolean(required=False, default=False)


class NetworkShareSerializer(StrictSerializer):
    tenant = Text(help_text="The short name (slug) of a team that also uses the network's cluster.")


class NetworkUnshareSerializer(StrictSerializer):
    tenant = Text(help_text="The short name (slug) of the team the network is shared with.")
    disconnect = Boolean(
        required=False, default=False, help_text="Take that team's containers off the network, instead of refusing."
    )


class RegistryLoginCreateSerializer(StrictSerializer):
    registry = Text(
        allow_blank=True,
        max_length=NAME_MAX_LENGTH,
        help_text="The registry's host[:port] as images name it, such as registry.example.com or 192.168.250.1:5001.",
    )
    username = Text(allow_blank=True, max_length=NAME_MAX_LENGTH)
    password = Text(
        allow_blank=True,
        write_only=True,
        max_length=REGISTRY_PASSWORD_MAX_LENGTH,
        help_text="The password or token; sealed at once and never shown again.",
    )


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


class ClusterCredentialsSerializer(StrictSerializer):
    """A cluster's credentials: its bundle uploaded (multipart), or the endpoint and the three PEMs (JSON)."""

    class Meta:
        model = Cluster
        columns = {"docker_host": "docker_endpoint"}

    bundle = serializers.FileField(
        required=False,
        help_text="The Carina-style bundle, a zip with docker.env, ca.pem, cert.pem and key.pem (multipart only). "
        "Or leave it out and send docker_host and the three PEMs.",
    )
    docker_host = Text(required=False, allow_blank=True, default="", help_text="As in docker.env: tcp://HOST:2376.")
    ca_pem = Text(required=False, allow_blank=True, default="", help_text="ca.pem: the CA of the cluster.")
    cert_pem = Text(required=False, allow_blank=True, default="", help_text="cert.pem: the client certificate.")
    key_pem = Text(
        required=False, allow_blank=True, default="", help_text="key.pem: kept sealed and never shown again."
    )
    consul_token = Text(
        required=False,
        allow_blank=True,
        default="",
        help_text="A Consul ACL token, when the cluster's Consul has ACLs; kept sealed, never shown again.",
    )


class ClusterRegisterSerializer(ClusterCredentialsSerializer):
    name = Text(allow_blank=True, help_text="What the portal calls the cluster, such as prod.")
    tenant = Text(
        required=False,
        allow_blank=True,
        default="",
        help_text="The short name (slug) of the team that uses the cluster first; default: your own team.",
    )
    registry = Text(
        required=False, allow_blank=True, default="", help_text="The cluster's image registry, HOST:PORT; or empty."
    )


# --- answers ----------------------------------------------------------------------------------


class RegistryLoginSerializer(serializers.ModelSerializer):
    """A login as the team sees it: never its password, sealed or not."""

    class Meta:
        model = RegistryLogin
        fields = ["id", "registry", "username", "created", "updated"]


class NodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Node
        fields = ["id", "name", "address", "role", "state", "last_seen"]


class ClusterHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["healthy", "degraded", "down", "unknown"],
        help_text="As the dashboard tells it: healthy when every node is ready and every Consul agent runs.",
    )
    nodes_total = serializers.IntegerField()
    nodes_ready = serializers.IntegerField()
    consul_agents_total = serializers.IntegerField()
    consul_agents_running = serializers.IntegerField()


class LimitSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    allowed = serializers.IntegerField(allow_null=True, help_text="null: no limit.")


class ClusterLimitsSerializer(serializers.Serializer):
    networks = LimitSerializer()
    containers = LimitSerializer()
    published_ports = LimitSerializer()


class CredentialFactsSerializer(serializers.Serializer):
    """The public facts of a cluster's credentials; the key and the Consul token are never shown."""

    endpoint = serializers.CharField(help_text="DOCKER_HOST of the swarm manager the portal talks to.")
    tls = serializers.BooleanField(help_text="Mutual TLS with a client certificate (false: plain TCP).")
    subject = serializers.CharField(allow_blank=True, help_text="The client certificate's subject.")
    fingerprint = serializers.CharField(allow_blank=True, help_text="Its SHA-256 fingerprint, hex with colons.")
    expires = serializers.DateTimeField(allow_null=True, help_text="When the client certificate stops being valid.")
    updated = serializers.DateTimeField(allow_null=True, help_text="When the credentials were last given.")
    consul_token_kept = serializers.BooleanField(source="consul_token", help_text="Whether a Consul token is kept.")


class ClusterTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="True when the stored credentials reached the same swarm.")
    code = serializers.CharField(help_text="connected, or what went wrong, such as cluster_unreachable.")
    message = serializers.CharField(help_text="What the worker found, as a sentence.")


class ClusterSerializer(serializers.ModelSerializer):
    nodes = NodeSerializer(many=True, read_only=True)
    health = serializers.SerializerMethodField(help_text="From the nodes' last known states.")
    limits = serializers.SerializerMethodField(help_text="What your team holds on the cluster and its grant allows.")
    credentials = serializers.SerializerMethodField()

    class Meta:
        model = Cluster
        fields = ["id", "name", "swarm_id", "docker_endpoint", "consul_address", "registry", "address_pool"]
        fields += ["default_prefixlen", "nodes", "health", "limits", "credentials", "created"]

    @extend_schema_field(CredentialFactsSerializer)
    def get_credentials(self, cluster) -> dict:
        return CredentialFactsSerializer(cluster_credentials(cluster)).data

    @extend_schema_field(ClusterLimitsSerializer(allow_null=True))
    def get_limits(self, cluster) -> dict | None:
        request = self.context.get("request")
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return None
        usage = cluster_usage(cluster=cluster, tenant=tenant)
        if usage is None:
            return None
        return {what.replace(" ", "_"): {"used": used, "allowed": allowed} for what, used, allowed in usage.rows()}

    @extend_schema_field(ClusterHealthSerializer)
    def get_health(self, cluster) -> dict:
        health = cluster_health_of(cluster)
        if health.healthy:
            status = "healthy"
        elif health.nodes_ready or health.consul_running:
            status = "degraded"
        elif any(node.state == Node.State.DOWN for node in health.nodes):
            status = "down"
        else:
            status = "unknown"
        return {
            "status": status,
            "nodes_total": health.nodes_total,
            "nodes_ready": health.nodes_ready,
            "consul_agents_total": health.consul_total,
            "consul_agents_running": health.consul_running,
        }


class LiveHealthSerializer(serializers.Serializer):
    nodes_total = serializers.IntegerField()
    nodes_ready = serializers.IntegerField()
    consul_leader = serializers.BooleanField()
    consul_alive = serializers.ListField(child=serializers.CharField())


class AllocationSerializer(serializers.Serializer):
    cidr = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["network", "external", "other"],
        help_text="network: yours or shared with you; other: another team's; external: made outside the portal.",
    )
    owner = serializers.CharField(help_text='Who holds the block, e.g. network "mynetwork", or "held by another team".')
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


class NetworkSerializer(RowSerializer):
    """A network as the asking team may see it: a network shared with it shows its name, subnet and
    the names of the containers on it, but no details of another team's containers."""

    # It serializes rows (selectors.network_rows, with network_rows_with_containers for `containers`
    # and `shared_with`), not Network objects; this docstring is the schema's description.

    cluster_name = serializers.CharField(source="cluster.name")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    owner = serializers.CharField(source="tenant.slug", help_text="The team that made the network.")
    shared = serializers.SerializerMethodField(help_text="True when another team shares this network with yours.")
    shared_with = serializers.SerializerMethodField(help_text="The teams yours shares it with (owners' view).")
    containers = serializers.SerializerMethodField()

    class Meta:
        model = Network
        fields = ["id", "name", "cluster", "cluster_name", "subnet", "gateway", "internal", "encrypted", "labels"]
        fields += ["is_external", "docker_id", "status", "created_by", "created", "updated", "owner", "shared"]
        fields += ["shared_with", "containers"]
        method_columns = ["tenant"]
        # Times in UTC, as TIME_ZONE (no request activates another): named here, a page of a thousand
        # networks does not look the current time zone up twice per network.
        extra_kwargs = {"created": {"default_timezone": datetime.UTC}, "updated": {"default_timezone": datetime.UTC}}

    @cached_property
    def tenant(self):
        """The asking team (one serializer serves every row of a page)."""
        return getattr(self.context.get("request"), "tenant", None)

    def get_shared(self, network) -> bool:
        return self.tenant is not None and network["tenant"] != self.tenant.pk

    def get_shared_with(self, network) -> list[str]:
        if self.get_shared(network):
            return []
        return [share["tenant__slug"] for share in network["share_rows"]]

    @extend_schema_field(NetworkEndpointSerializer(many=True))
    def get_containers(self, network) -> list[dict]:
        tenant = self.tenant
        rows = []
        for endpoint in network["endpoint_rows"]:
            foreign = tenant is not None and endpoint["container__tenant"] != tenant.pk
            rows.append(
                {
                    "container": None if foreign else endpoint["container"],
                    "container_name": endpoint["container__name"],
                    "ipv4_address": None if foreign else endpoint["ipv4_address"],
                    "mac_address": "" if foreign else endpoint["mac_address"],
                    "aliases": [] if foreign else endpoint["aliases"],
                }
            )
        return rows


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


class TransferSerializer(serializers.Serializer):
    image = serializers.CharField()
    layers_done = serializers.IntegerField()
    layers_total = serializers.IntegerField()
    bytes_done = serializers.IntegerField()
    bytes_total = serializers.IntegerField()


class OperationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    progress = ProgressSerializer(many=True)
    transfer = TransferSerializer(
        allow_null=True,
        source="transfer_or_none",
        help_text="While (and after) a run pulls its image: layers and bytes so far; null when nothing was pulled.",
    )
    params = serializers.DictField(help_text="What was asked for; never secret values.")
    result = serializers.DictField()
    waiting_for = serializers.SerializerMethodField(
        help_text="While unfinished, what it waits for: the task queue, a worker busy with N operations ahead, or "
        'the cluster (with for how long); "" otherwise.'
    )

    class Meta:
        model = Operation
        fields = ["id", "url", "kind", "status", "waiting_for", "target", "cluster", "network", "container", "params"]
        fields += ["progress", "transfer"]
        fields += ["result", "error", "error_code", "requested_by", "attempts", "created", "started", "finished"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, operation) -> str:
        return reverse("api:operation-detail", args=[operation.pk], request=self.context.get("request"))

    def get_waiting_for(self, operation) -> str:
        return operation_waiting_for(operation=operation)


class OperationBatchSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    operations = OperationSerializer(many=True)
