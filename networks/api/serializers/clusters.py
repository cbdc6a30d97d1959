"""Clusters in the REST mirror: the bodies that register one and give it new credentials, a cluster with
its nodes, health, the asking team's limits and its credentials' public facts, a live health check, a
credentials test, and the address pool's capacity."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from networks.models import Cluster, Node
from networks.selectors.clusters import cluster_credentials, cluster_usage
from networks.selectors.health import cluster_health_of
from plumbing.api.fields import StrictSerializer, Text


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


class AvailablePrefixSerializer(serializers.Serializer):
    """A free block, as `POST /networks/` takes it in `subnet`."""

    prefix = serializers.CharField(help_text="The block in CIDR notation, such as 10.0.7.64/26.")
    gateway = serializers.CharField(help_text="Its first address: the gateway Docker gives it by default.")
    addresses = serializers.IntegerField(help_text="Host addresses in it (the gateway one of them).")


class CapacitySerializer(serializers.Serializer):
    prefixlen = serializers.IntegerField()
    total_blocks = serializers.IntegerField()
    used_blocks = serializers.IntegerField()
    reserved_blocks = serializers.IntegerField()
    free_blocks = serializers.IntegerField()
    next_block = serializers.CharField(allow_null=True, help_text="The block the next network gets; null when full.")
    allocations = AllocationSerializer(many=True)
    reserved_ranges = ReservedRangeSerializer(many=True)
