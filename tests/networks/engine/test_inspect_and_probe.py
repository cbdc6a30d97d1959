"""What the swarm built told apart from what was asked (engine/inspect.py), the portal's inspect document,
and a node's underlay MTU read from `ip` output (engine/nodes.py): pure functions, no engine."""

from networks.engine.inspect import network_differences, network_inspect_document
from networks.engine.nodes import parse_underlay_mtu

ASKED = {
    "subnet": "10.0.42.0/24",
    "gateway": "10.0.42.1",
    "ip_range": "10.0.42.128/25",
    "mtu": 1400,
    "attachable": True,
    "internal": False,
    "encrypted": False,
}
# What Docker 20.10's manager answered for such a network (measured): no AuxiliaryAddresses.
BUILT = {
    "Name": "n",
    "Id": "pn7eb94v4nqy2kksg6fixfyoi",
    "Scope": "swarm",
    "Driver": "overlay",
    "IPAM": {
        "Driver": "default",
        "Options": None,
        "Config": [{"Subnet": "10.0.42.0/24", "IPRange": "10.0.42.128/25", "Gateway": "10.0.42.1"}],
    },
    "Attachable": True,
    "Internal": False,
    "Options": {"com.docker.network.driver.mtu": "1400", "com.docker.network.driver.overlay.vxlanid_list": "4097"},
}


def test_a_network_built_as_asked_has_no_differences():
    assert network_differences(BUILT, expected=ASKED) == []
    plain = {**ASKED, "ip_range": "", "mtu": None}
    built = {**BUILT, "IPAM": {"Config": [{"Subnet": "10.0.42.0/24", "Gateway": "10.0.42.1"}]}, "Options": {}}
    assert network_differences(built, expected=plain) == []


def test_each_option_the_swarm_ignored_is_named():
    built = {**BUILT, "Options": {}, "Attachable": False, "IPAM": {"Config": [{"Subnet": "10.0.42.0/24"}]}}
    assert network_differences(built, expected={**ASKED, "encrypted": True}) == [
        "gateway none instead of 10.0.42.1",
        "IP range none instead of 10.0.42.128/25",
        "MTU none instead of 1400",
        "attachable off instead of on",
        "encrypted off instead of on",
    ]


def test_the_portals_inspect_shows_the_range_and_the_aux_addresses_it_keeps():
    document = network_inspect_document(BUILT, {}, aux_addresses={"router": "10.0.42.2"})
    assert document["IPAM"]["Config"] == [
        {
            "Subnet": "10.0.42.0/24",
            "IPRange": "10.0.42.128/25",
            "Gateway": "10.0.42.1",
            "AuxiliaryAddresses": {"router": "10.0.42.2"},
        }
    ]
    assert document["Options"]["com.docker.network.driver.mtu"] == "1400"
    assert "AuxiliaryAddresses" not in network_inspect_document(BUILT, {})["IPAM"]["Config"][0]
    plain = {**BUILT, "IPAM": {"Config": [{"Subnet": "10.0.42.0/24", "Gateway": "10.0.42.1"}]}}
    assert network_inspect_document(plain, {})["IPAM"]["Config"] == [{"Subnet": "10.0.42.0/24", "Gateway": "10.0.42.1"}]


ADDRESSES = """1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 192.168.250.11/24 scope global eth0\\       valid_lft forever preferred_lft forever
3: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever
"""
LINKS = """1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\\    link/loopback 00:00:00:00:00:00
2: eth0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1450 qdisc noqueue qlen 1000\\    link/ether 72:81:47
3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue \\    link/ether 02:42:08:ab:26:56
"""


def test_the_underlay_mtu_is_the_one_of_the_interface_holding_the_nodes_address():
    assert parse_underlay_mtu(ADDRESSES, LINKS, address="192.168.250.11") == 1450
    assert parse_underlay_mtu(ADDRESSES, LINKS, address="172.17.0.1") == 1500
    assert parse_underlay_mtu(ADDRESSES, LINKS, address="192.168.250.99") is None
    assert parse_underlay_mtu("", "", address="192.168.250.11") is None
