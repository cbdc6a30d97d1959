"""Networks in the REST mirror: the bodies that create, connect, disconnect, share and unshare one, a
network as the asking team may see it (read from plain rows), and `docker network inspect`'s answer."""

from __future__ import annotations

import datetime
from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from networks import ipam
from networks.models import Endpoint, Network
from networks.models.network import MTU_MAX, MTU_MIN, container_mtu
from networks.selectors.usage import usage_of_row
from networks.services.networks.rules import MTU_SENTENCE
from plumbing.api.fields import Boolean, Id, Integer, StrictSerializer, Text, TextList
from plumbing.api.rows import RowSerializer

# The empty list most rows answer for their containers and shares: one tuple, which no answer can change and
# JSON writes as [], not a list per row (a page of a thousand rows made the garbage collector run a dozen times).
EMPTY: Any = ()

PREFIXLEN_RANGE = (
    f"prefixlen is a network's size from {ipam.MIN_PREFIXLEN} to {ipam.MAX_PREFIXLEN} (no larger than the cluster's "
    "pool), such as 24 for 254 addresses; leave it out for the cluster's default."
)


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
    ip_range = Text(
        required=False,
        allow_blank=True,
        default="",
        help_text="As `--ip-range`: the part of the subnet Docker hands containers addresses from, such as "
        "10.0.9.128/25; it needs `subnet` and must leave the gateway out. Empty for the whole subnet.",
    )
    aux_addresses = serializers.DictField(
        child=Text(allow_blank=True),
        required=False,
        default=dict,
        help_text=f"As `--aux-address NAME=ADDRESS`: devices already on the subnet, at most {ipam.AUX_MAX}, such as "
        '{"router": "10.0.9.2"}. Never given to a container; they need `subnet` and an `ip_range` that leaves '
        "them out (the swarm does not keep them).",
    )
    mtu = Integer(
        required=False,
        allow_null=True,
        error_messages={"invalid": MTU_SENTENCE},
        help_text=f"{MTU_MIN} to {MTU_MAX}. As `--opt com.docker.network.driver.mtu`: the underlay's MTU; containers get 50 bytes less. "
        "Null for Docker's default (1500). Above a node's underlay MTU the operation's params carry a warning.",
    )
    attachable = Boolean(
        required=False,
        default=True,
        help_text="As `--attachable`: standalone containers may join (the portal runs them); false for swarm "
        "services only.",
    )


class NetworkUpdateSerializer(StrictSerializer):
    """The portal's own details of a network, changed at any time; leave a field out to keep it."""

    class Meta:
        model = Network

    description = Text(required=False, allow_blank=True, help_text="What the network is for; never sent to Docker.")
    tags = serializers.ListField(
        child=Text(allow_blank=True),
        required=False,
        help_text="Words to file it under, such as pci or staging (lowercase letters, digits, - and _); the list "
        "given replaces the network's. Never sent to Docker.",
    )


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
    addresses_used = serializers.SerializerMethodField(
        help_text="Addresses taken of those Docker hands out (the IP range, or the subnet): the gateway, "
        "auxiliary addresses and containers."
    )
    addresses_usable = serializers.SerializerMethodField(
        help_text="Addresses Docker hands out: the IP range's, or the subnet's less its network and broadcast."
    )
    utilization = serializers.SerializerMethodField(help_text="addresses_used / addresses_usable, 0 to 1.")
    tags = serializers.SerializerMethodField(help_text="The portal's tags of the network (never sent to Docker).")
    container_mtu = serializers.SerializerMethodField(
        help_text="The MTU containers on the network get: `mtu` (or 1500) less the overlay's headers."
    )

    class Meta:
        model = Network
        fields = ["id", "name", "cluster", "cluster_name", "subnet", "gateway", "internal", "encrypted", "labels"]
        fields += ["ip_range", "aux_addresses", "mtu", "container_mtu", "attachable"]
        fields += ["addresses_used", "addresses_usable", "utilization", "description", "tags"]
        fields += ["is_external", "docker_id", "status", "created_by", "created", "updated", "owner", "shared"]
        fields += ["shared_with", "containers"]
        method_columns = ["tenant"]  # container_mtu reads mtu and encrypted, fields already
        # Times in UTC, as TIME_ZONE (no request activates another): named here, a page of a thousand
        # networks does not look the current time zone up twice per network.
        extra_kwargs = {"created": {"default_timezone": datetime.UTC}, "updated": {"default_timezone": datetime.UTC}}

    _usage_of = None

    @cached_property
    def tenant(self):
        """The asking team (one serializer serves every row of a page)."""
        return getattr(self.context.get("request"), "tenant", None)

    def get_shared(self, network) -> bool:
        return self.tenant is not None and network["tenant"] != self.tenant.pk

    def get_shared_with(self, network) -> list[str]:
        shares = network["share_rows"]
        if not shares or self.get_shared(network):
            return EMPTY
        return [share["tenant__slug"] for share in shares]

    def get_tags(self, network) -> list[str]:
        return network["tag_rows"]

    def usage(self, network) -> ipam.AddressUsage:
        """The row's usage, worked out once for its three fields (the last row's kept here, not in the row)."""
        if self._usage_of is not network:
            self._usage_of, self._usage = network, usage_of_row(network)
        return self._usage

    def get_addresses_used(self, network) -> int:
        return self.usage(network).used

    def get_addresses_usable(self, network) -> int:
        return self.usage(network).usable

    def get_utilization(self, network) -> float:
        return round(self.usage(network).ratio, 4)

    def get_container_mtu(self, network) -> int:
        return container_mtu(network["mtu"], encrypted=network["encrypted"])

    @extend_schema_field(NetworkEndpointSerializer(many=True))
    def get_containers(self, network) -> list[dict]:
        endpoints = network["endpoint_rows"]
        if not endpoints:
            return EMPTY
        tenant = self.tenant
        rows = []
        for endpoint in endpoints:
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
    IPRange = serializers.CharField(required=False, help_text="Only when the network has one.")
    Gateway = serializers.CharField(allow_null=True)
    AuxiliaryAddresses = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Only when the network has some, as the portal keeps them: the swarm drops an overlay "
        "network's auxiliary addresses.",
    )


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
