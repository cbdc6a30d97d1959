"""The API's networks, a page of them and one, are byte for byte what a plain ModelSerializer writes of the
Network objects (kept below as the reference): the rows, the related rows' one query, the usage worked
out from text and the serializer written out per class (plumbing/api/rows.py) change how fast, not what."""

from ipaddress import IPv4Address, IPv4Network

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from networks import ipam
from networks.api.serializers.networks import NetworkSerializer
from networks.models import Network, NetworkTag
from networks.models.network import container_mtu
from tests.factories import make_container, make_network
from tests.pages import populate

pytestmark = pytest.mark.django_db


class NetworkObjects(serializers.ModelSerializer):
    """NetworkSerializer's answer, from a Network object, each related object read as the ORM reads it."""

    cluster_name = serializers.CharField(source="cluster.name")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    owner = serializers.CharField(source="tenant.slug")
    shared = serializers.SerializerMethodField()
    shared_with = serializers.SerializerMethodField()
    containers = serializers.SerializerMethodField()
    addresses_used = serializers.SerializerMethodField()
    addresses_usable = serializers.SerializerMethodField()
    utilization = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    container_mtu = serializers.SerializerMethodField()

    class Meta:
        model = Network
        fields = NetworkSerializer.Meta.fields
        extra_kwargs = NetworkSerializer.Meta.extra_kwargs

    def get_shared(self, network) -> bool:
        return network.tenant_id != self.context["tenant"].pk

    def get_shared_with(self, network) -> list[str]:
        if self.get_shared(network):
            return []
        return [share.tenant.slug for share in network.shares.order_by("tenant__name", "pk")]

    def get_containers(self, network) -> list[dict]:
        answers = []
        for endpoint in network.endpoints.select_related("container").order_by("container__name", "pk"):
            foreign = endpoint.container.tenant_id != self.context["tenant"].pk
            answers.append(
                {
                    "container": None if foreign else endpoint.container_id,
                    "container_name": endpoint.container.name,
                    "ipv4_address": None if foreign else endpoint.ipv4_address,
                    "mac_address": "" if foreign else endpoint.mac_address,
                    "aliases": [] if foreign else endpoint.aliases,
                }
            )
        return answers

    def usage(self, network) -> ipam.AddressUsage:
        addresses = [endpoint.ipv4_address for endpoint in network.endpoints.all()]
        return ipam.address_usage(
            IPv4Network(network.subnet),
            gateway=IPv4Address(network.gateway),
            ip_range=IPv4Network(network.ip_range) if network.ip_range else None,
            taken=[IPv4Address(a) for a in [*network.aux_addresses.values(), *addresses] if a],
            pending=sum(1 for a in addresses if not a),
        )

    def get_addresses_used(self, network) -> int:
        return self.usage(network).used

    def get_addresses_usable(self, network) -> int:
        return self.usage(network).usable

    def get_utilization(self, network) -> float:
        return round(self.usage(network).ratio, 4)

    def get_tags(self, network) -> list[str]:
        return list(network.tags.order_by("name").values_list("name", flat=True))

    def get_container_mtu(self, network) -> int:
        return container_mtu(network.mtu, encrypted=network.encrypted)


def expected(team, ids: list[int]) -> list[dict]:
    networks = Network.objects.in_bulk(ids)
    return [NetworkObjects(networks[pk], context={"tenant": team.tenant}).data for pk in ids]


def test_a_page_and_a_network_answer_what_the_objects_serialize_to(team):
    populate(team, 40)
    ranged = make_network(
        team,
        "ranged",
        subnet="10.9.42.0/24",
        ip_range="10.9.42.248/29",
        aux_addresses={"router": "10.9.42.2", "nas": "10.9.42.250"},
        labels={"tier": "db", "n": 3},
        mtu=1400,
        encrypted=True,
        description="Databases",
    )
    NetworkTag.objects.bulk_create([NetworkTag(network=ranged, name=name) for name in ("pci", "db")])
    make_container(team, "db-1", networks=[ranged])
    api = team.api()

    answer = api.get("networks/?page_size=1000")
    ids = [network["id"] for network in answer.json()["results"]]
    assert sorted(ids) == sorted(Network.objects.usable_by(team.tenant).values_list("pk", flat=True))
    body = {"count": len(ids), "next": None, "previous": None, "results": expected(team, ids)}
    assert answer.content == JSONRenderer().render(body)
    varied = {
        (n["addresses_used"] > 1, bool(n["containers"]), bool(n["shared_with"]), n["shared"]) for n in body["results"]
    }
    assert len(varied) >= 4, "the page holds networks with and without containers, shares, and shared with us"

    for pk in (ranged.pk, *ids[:5]):
        assert api.get(f"networks/{pk}/").content == JSONRenderer().render(expected(team, [pk])[0])
