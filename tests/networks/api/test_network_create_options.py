"""`docker network create`'s other options over the API: --ip-range, --aux-address, the MTU option and
--attachable, and the swarm's name rule; every bad input a 400 on its field before anything is held.

No worker here (the test transaction never commits): the swarm's side is in
tests/networks/services/test_network_create_options.py.
"""

import pytest

from networks.models import Network, Node, SubnetAllocation
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db

FULL = {
    "name": "edge-net",
    "subnet": "10.0.42.0/24",
    "ip_range": "10.0.42.128/25",
    "aux_addresses": {"router": "10.0.42.2", "firewall": "10.0.42.3"},
    "mtu": 1400,
    "attachable": True,
}


def test_every_option_is_recorded_and_shown(team):
    response = team.api().post("networks/", FULL)
    assert response.status_code == 202, response.content
    operation = response.json()
    assert operation["params"]["ip_range"] == "10.0.42.128/25" and operation["params"]["mtu"] == 1400
    assert operation["params"]["warnings"] == []
    shown = team.api().get(f"networks/{operation['network']}/").json()
    assert {key: shown[key] for key in ("subnet", "gateway", "ip_range", "aux_addresses", "mtu", "attachable")} == {
        "subnet": "10.0.42.0/24",
        "gateway": "10.0.42.1",
        "ip_range": "10.0.42.128/25",
        "aux_addresses": {"router": "10.0.42.2", "firewall": "10.0.42.3"},
        "mtu": 1400,
        "attachable": True,
    }
    assert shown["container_mtu"] == 1350, "Docker's overlay driver takes 50 bytes of the network's MTU"


def test_leaving_them_out_is_docker_s_defaults_and_attachable(team):
    operation = team.api().post("networks/", {"name": "plain"}).json()
    shown = team.api().get(f"networks/{operation['network']}/").json()
    assert (shown["ip_range"], shown["aux_addresses"], shown["mtu"], shown["attachable"]) == ("", {}, None, True)
    assert shown["container_mtu"] == 1450


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": "my.net"}, 400, "invalid_name", "name"),
        ({"name": "réseau"}, 400, "invalid_name", "name"),
        ({"name": "net-"}, 400, "invalid_name", "name"),
        ({"name": "net_"}, 400, "invalid_name", "name"),
        ({"name": "a b"}, 400, "invalid_name", "name"),
        ({"name": "n", "ip_range": "10.0.42.128/25"}, 400, "subnet_required", "ip_range"),
        ({"name": "n", "aux_addresses": {"r": "10.0.42.2"}}, 400, "subnet_required", "aux_addresses"),
        ({**FULL, "ip_range": 42}, 400, "invalid", "ip_range"),
        ({**FULL, "ip_range": "10.0.42.0/25"}, 400, "ip_range_has_gateway", "ip_range"),
        ({**FULL, "ip_range": "10.0.43.0/25"}, 400, "ip_range_outside", "ip_range"),
        ({**FULL, "ip_range": "x" * 19}, 400, None, "ip_range"),
        ({**FULL, "aux_addresses": ["router=10.0.42.2"]}, 400, "not_a_dict", "aux_addresses"),
        ({**FULL, "aux_addresses": {"router": 7}}, 400, "invalid", "aux_addresses.router"),
        ({**FULL, "aux_addresses": {"router": "10.0.42.200"}}, 400, "aux_in_range", "aux_addresses"),
        ({**FULL, "aux_addresses": {"router": "10.0.42.1"}}, 400, "aux_is_gateway", "aux_addresses"),
        ({**FULL, "aux_addresses": {"路由器": "10.0.42.2"}}, 400, "bad_aux_name", "aux_addresses"),
        ({**FULL, "mtu": "1400"}, 400, "invalid", "mtu"),
        ({**FULL, "mtu": 1400.5}, 400, "invalid", "mtu"),
        ({**FULL, "mtu": True}, 400, "invalid", "mtu"),
        ({**FULL, "mtu": 67}, 400, "bad_mtu", "mtu"),
        ({**FULL, "mtu": 9001}, 400, "bad_mtu", "mtu"),
        ({**FULL, "mtu": 10**30}, 400, None, "mtu"),
        ({**FULL, "attachable": "no"}, 400, "invalid", "attachable"),
        ({**FULL, "attachable": None}, 400, None, "attachable"),
    ],
)
def test_bad_input_is_a_400_on_its_field_and_holds_nothing(team, body, status, code, field):
    before = SubnetAllocation.objects.count(), Network.objects.count()
    assert_error(team.api().post("networks/", body), status, code, field=field)
    assert (SubnetAllocation.objects.count(), Network.objects.count()) == before


def test_a_dotted_name_is_refused_with_the_swarms_rule(team):
    assert_error(
        team.api().post("networks/", {"name": "my.net"}),
        400,
        "invalid_name",
        field="name",
        message='"my.net" is not a valid network name: the swarm takes names as DNS labels, so use letters and '
        "digits, with hyphens or underscores only between them (no periods or spaces), such as my-network.",
    )
    assert team.api().post("networks/", {"name": "a__b-c"}).status_code == 202


def test_ten_thousand_aux_addresses_are_a_400(team):
    many = {f"d{n}": f"10.0.{n // 250}.{n % 250 + 1}" for n in range(10_000)}
    error = assert_error(
        team.api().post("networks/", {**FULL, "aux_addresses": many}), 400, "too_many_aux_addresses", "aux_addresses"
    )
    assert "10,000 were given" in error["message"]


def test_an_mtu_above_a_nodes_underlay_is_created_with_a_warning(team):
    Node.objects.filter(cluster=team.cluster, name="node1").update(underlay_mtu=1500)
    operation = team.api().post("networks/", {**FULL, "mtu": 9000}).json()
    assert operation["params"]["warnings"] == [
        "MTU 9000 is above the underlay MTU of node node1 (1500): the overlay's packets will not fit it and large "
        "transfers will hang. Unless the underlay's MTU is raised, use at most 1500 (containers then get 1450)."
    ]
    assert (
        team.api()
        .post(
            "networks/",
            {**FULL, "name": "fits", "subnet": "10.0.43.0/24", "ip_range": "", "aux_addresses": {}, "mtu": 1500},
        )
        .json()["params"]["warnings"]
        == []
    )


def test_a_container_never_joins_a_network_only_services_may_join(team):
    network = team.network("services-only", attachable=False)
    error = assert_error(
        team.api().post(
            "containers/",
            {"name": "web", "image": "overlay-portal/tools:latest", "networks": [{"network": network.pk}]},
        ),
        409,
        "not_attachable",
    )
    assert error["message"].startswith('Network "services-only" is not attachable: only swarm services can join it')
    container = team.container("loose")
    assert_error(team.api().post(f"networks/{network.pk}/connect/", {"container": container.pk}), 409, "not_attachable")


def test_a_static_address_on_a_device_is_refused_naming_it(team):
    network = team.network(
        "edge", subnet="10.0.42.0/24", ip_range="10.0.42.128/25", aux_addresses={"router": "10.0.42.2"}
    )
    container = team.container("box")
    error = assert_error(
        team.api().post(f"networks/{network.pk}/connect/", {"container": container.pk, "ipv4_address": "10.0.42.2"}),
        400,
        "address_is_aux",
        field="ip_address",
    )
    assert "auxiliary address of router" in error["message"]
    outside_range = team.api().post(
        f"networks/{network.pk}/connect/", {"container": container.pk, "ipv4_address": "10.0.42.10"}
    )
    assert outside_range.status_code == 202, "a static address outside the range stays allowed, as in Docker"
