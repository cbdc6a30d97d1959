"""Tests for networks.ipam.options: IP ranges and auxiliary addresses as typed, their sentences, and
properties checked against brute force on small subnets."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from networks.ipam import (
    AUX_MAX,
    IpamError,
    address_holders,
    address_usage,
    address_usage_of_text,
    check_address,
    first_free_address,
    gateway_usage_of_text,
    parse_aux_addresses,
    parse_ip_range,
    range_avoiding,
)

SUBNET = IPv4Network("10.0.42.0/24")
GATEWAY = IPv4Address("10.0.42.1")
UPPER = IPv4Network("10.0.42.128/25")


def refused(call, *args, **kwargs) -> IpamError:
    with pytest.raises(IpamError) as excinfo:
        call(*args, **kwargs)
    return excinfo.value


# --------------------------------------------------------------------------- IP ranges


def test_an_ip_range_inside_the_subnet_without_the_gateway_is_taken():
    assert parse_ip_range(" 10.0.42.128/25 ", SUBNET, gateway=GATEWAY) == UPPER
    assert parse_ip_range("", SUBNET, gateway=GATEWAY) is None


@pytest.mark.parametrize(
    ("text", "code", "sentence"),
    [
        ("10.0.42.128", "bad_ip_range", '"10.0.42.128" is not an IPv4 range in CIDR notation, such as 10.0.42.0/25.'),
        ("banana", "bad_ip_range", '"banana" is not an IPv4 range in CIDR notation, such as 10.0.42.0/25.'),
        ("fd00::/64", "bad_ip_range", '"fd00::/64" is not an IPv4 range in CIDR notation, such as 10.0.42.0/25.'),
        ("10.0.42.130/25", "ip_range_host_bits", "10.0.42.130/25 has host bits set: did you mean 10.0.42.128/25?"),
        (
            "10.0.43.0/25",
            "ip_range_outside",
            "IP range 10.0.43.0/25 is not inside the subnet 10.0.42.0/24. Give a range inside it, such as "
            "10.0.42.0/25, or leave it empty to hand out the whole subnet.",
        ),
        (
            "10.0.0.0/16",
            "ip_range_outside",
            "IP range 10.0.0.0/16 is not inside the subnet 10.0.42.0/24. Give a range inside it, such as "
            "10.0.42.0/25, or leave it empty to hand out the whole subnet.",
        ),
        (
            "10.0.42.0/25",
            "ip_range_has_gateway",
            "IP range 10.0.42.0/25 contains the gateway 10.0.42.1. Give a range that leaves the gateway out, such "
            "as 10.0.42.128/25, or another gateway outside the range.",
        ),
    ],
)
def test_a_bad_ip_range_is_refused_on_its_field(text, code, sentence):
    error = refused(parse_ip_range, text, SUBNET, gateway=GATEWAY)
    assert (error.code, error.field, error.message) == (code, "ip_range", sentence)


# --------------------------------------------------------------------------- auxiliary addresses


def test_aux_addresses_outside_the_range_are_taken_in_both_shapes():
    asked = {"router": "10.0.42.2", "switch": " 10.0.42.3 "}
    expected = {"router": IPv4Address("10.0.42.2"), "switch": IPv4Address("10.0.42.3")}
    assert parse_aux_addresses(asked, SUBNET, gateway=GATEWAY, ip_range=UPPER) == expected
    assert parse_aux_addresses(list(asked.items()), SUBNET, gateway=GATEWAY, ip_range=UPPER) == expected
    assert parse_aux_addresses({}, SUBNET, gateway=GATEWAY, ip_range=None) == {}


@pytest.mark.parametrize(
    ("pairs", "code", "sentence"),
    [
        (
            [("router", "10.0.42.2"), ("router", "10.0.42.3")],
            "aux_name_repeated",
            "The name router is given twice. Give each device one name.",
        ),
        (
            [("a", "10.0.42.2"), ("b", "10.0.42.2")],
            "aux_address_repeated",
            "b's address 10.0.42.2 is already a's. Give each device its own address.",
        ),
        (
            [("gw", "10.0.42.1")],
            "aux_is_gateway",
            "gw's address 10.0.42.1 is the network's gateway, which Docker holds already. Leave it out, or give the "
            "device another address.",
        ),
        (
            [("far", "10.0.43.2")],
            "aux_address_outside",
            "far: 10.0.43.2 is not a host address of the subnet 10.0.42.0/24. Give one from 10.0.42.1 to 10.0.42.254.",
        ),
        (
            [("bcast", "10.0.42.255")],
            "aux_address_outside",
            "bcast: 10.0.42.255 is not a host address of the subnet 10.0.42.0/24. Give one from 10.0.42.1 to "
            "10.0.42.254.",
        ),
        (
            [("r", "ten")],
            "bad_aux_address",
            'r: "ten" is not an IPv4 address. Give an address of 10.0.42.0/24, from 10.0.42.1 to 10.0.42.254.',
        ),
        (
            [("routeur é", "10.0.42.2")],
            "bad_aux_name",
            '"routeur é" is not a name for an auxiliary address: use letters, digits, _ . - and at most 63 '
            "characters, such as router.",
        ),
        (
            [("inside", "10.0.42.200")],
            "aux_in_range",
            "inside's address 10.0.42.200 could be given to a container: it lies inside the IP range 10.0.42.128/25, "
            "and the swarm does not keep auxiliary addresses, so only the range keeps Docker from handing them out. "
            "Give an IP range such as 10.0.42.64/26 that leaves the auxiliary addresses out.",
        ),
    ],
)
def test_a_bad_aux_address_is_refused_on_its_field(pairs, code, sentence):
    error = refused(parse_aux_addresses, pairs, SUBNET, gateway=GATEWAY, ip_range=UPPER)
    assert (error.code, error.field, error.message) == (code, "aux_addresses", sentence)


def test_aux_addresses_without_a_range_are_refused_with_one_that_leaves_them_out():
    error = refused(parse_aux_addresses, {"router": "10.0.42.2"}, SUBNET, gateway=GATEWAY, ip_range=None)
    assert error.code == "aux_in_range" and "no IP range was given" in error.message
    assert "such as 10.0.42.128/25" in error.message


def test_ten_thousand_aux_addresses_are_refused_before_any_is_read():
    pairs = {f"d{n}": "not an address" for n in range(10_000)}
    error = refused(parse_aux_addresses, pairs, SUBNET, gateway=GATEWAY, ip_range=UPPER)
    assert error.code == "too_many_aux_addresses" and error.field == "aux_addresses"
    assert error.message.startswith(f"A network holds at most {AUX_MAX} auxiliary addresses; 10,000 were given.")


# --------------------------------------------------------------------------- container addresses


def test_a_static_address_may_lie_outside_the_range_but_never_on_a_device():
    aux = address_holders({"router": "10.0.42.2"})
    used: set[IPv4Address] = set()
    assert check_address("10.0.42.3", SUBNET, gateway=GATEWAY, used=used, ip_range=UPPER, aux=aux) == IPv4Address(
        "10.0.42.3"
    )
    error = refused(check_address, "10.0.42.2", SUBNET, gateway=GATEWAY, used=used, ip_range=UPPER, aux=aux)
    assert (error.code, error.field) == ("address_is_aux", "ip_address")
    assert error.message == (
        "10.0.42.2 is the auxiliary address of router, a device already on 10.0.42.0/24. Pick another address, "
        "or leave it empty to get the next free one."
    )


def test_the_first_free_address_comes_from_the_range_and_skips_devices():
    aux = address_holders({"router": "10.0.42.128"})
    assert first_free_address(SUBNET, gateway=GATEWAY, used=set(), ip_range=UPPER, aux=aux) == IPv4Address(
        "10.0.42.129"
    )
    full = {IPv4Address(f"10.0.42.{n}") for n in range(129, 255)}
    assert refused(first_free_address, SUBNET, gateway=GATEWAY, used=full, ip_range=UPPER, aux=aux).code == (
        "subnet_full"
    )


# --------------------------------------------------------------------------- properties

small_subnets = st.builds(
    lambda base, prefixlen: IPv4Network((base << (32 - prefixlen), prefixlen)),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=24, max_value=29),
)


@given(data=st.data(), subnet=small_subnets)
def test_range_avoiding_is_the_largest_lowest_block_free_of_the_addresses(data, subnet):
    hosts = list(subnet.hosts())
    avoid = data.draw(st.sets(st.sampled_from(hosts), min_size=1, max_size=8))
    found = range_avoiding(subnet, avoid)
    candidates = [
        block
        for prefixlen in range(subnet.prefixlen + 1, 31)
        for block in subnet.subnets(new_prefix=prefixlen)
        if not any(address in block for address in avoid)
    ]
    assert found == (candidates[0] if candidates else None)


@given(data=st.data(), subnet=small_subnets)
def test_the_first_free_address_is_the_lowest_allowed_one(data, subnet):
    hosts = list(subnet.hosts())
    gateway = hosts[0]
    ip_range = data.draw(st.sampled_from([None, *subnet.subnets(prefixlen_diff=1)]))
    used = data.draw(st.sets(st.sampled_from(hosts), max_size=len(hosts)))
    aux = {address: "device" for address in data.draw(st.sets(st.sampled_from(hosts), max_size=4))}
    allowed = [
        a for a in hosts if a != gateway and a not in used and a not in aux and (ip_range is None or a in ip_range)
    ]
    if allowed:
        assert first_free_address(subnet, gateway=gateway, used=used, ip_range=ip_range, aux=aux) == allowed[0]
    else:
        with pytest.raises(IpamError):
            first_free_address(subnet, gateway=gateway, used=used, ip_range=ip_range, aux=aux)


@given(data=st.data(), subnet=small_subnets)
def test_accepted_aux_addresses_are_hosts_outside_the_range_and_off_the_gateway(data, subnet):
    hosts = list(subnet.hosts())
    gateway = data.draw(st.sampled_from(hosts))
    ip_range = data.draw(st.sampled_from(list(subnet.subnets(prefixlen_diff=2))))
    addresses = data.draw(st.lists(st.sampled_from([*hosts, subnet.broadcast_address]), max_size=5))
    pairs = [(f"d{n}", str(address)) for n, address in enumerate(addresses)]
    try:
        found = parse_aux_addresses(pairs, subnet, gateway=gateway, ip_range=ip_range)
    except IpamError as error:
        assert error.field == "aux_addresses"
        return
    assert len(set(found.values())) == len(found) == len(pairs)
    for address in found.values():
        assert address in hosts and address != gateway and address not in ip_range


# --------------------------------------------------------------------------- how full a network is


def test_usage_counts_the_gateway_devices_and_containers_of_what_docker_hands_out():
    aux = [IPv4Address("10.0.42.2"), IPv4Address("10.0.42.3")]
    whole = address_usage(SUBNET, gateway=GATEWAY, taken=[*aux, IPv4Address("10.0.42.10")], pending=1)
    assert (whole.used, whole.usable, round(whole.ratio, 4)) == (5, 254, 0.0197)
    # With a range: only what lies in it, a static address outside it takes none of it.
    ranged = address_usage(SUBNET, gateway=GATEWAY, ip_range=UPPER, taken=[*aux, IPv4Address("10.0.42.200")])
    assert (ranged.used, ranged.usable) == (1, 127), "the subnet's broadcast address is not handed out"
    tiny = IPv4Network("10.0.42.0/29")
    full = address_usage(tiny, gateway=IPv4Address("10.0.42.1"), pending=5)
    assert (full.used, full.usable, full.full, full.ratio) == (6, 6, True, 1.0)


@given(data=st.data(), subnet=small_subnets)
def test_usage_is_what_brute_force_counts(data, subnet):
    hosts = list(subnet.hosts())
    gateway = data.draw(st.sampled_from(hosts))
    ip_range = data.draw(st.sampled_from([None, *subnet.subnets(prefixlen_diff=2)]))
    taken = data.draw(st.lists(st.sampled_from(hosts), max_size=10))
    usage = address_usage(subnet, gateway=gateway, ip_range=ip_range, taken=taken)
    handed_out = [a for a in hosts if ip_range is None or a in ip_range]
    assert usage.usable == len(handed_out)
    assert usage.used == len({a for a in (gateway, *taken) if a in handed_out})
    assert 0 <= usage.ratio <= 1


@given(data=st.data(), subnet=small_subnets)
def test_usage_of_the_database_text_is_usage_of_the_addresses(data, subnet):
    hosts = list(subnet.hosts())
    gateway = data.draw(st.sampled_from(hosts))
    ip_range = data.draw(st.sampled_from([None, *subnet.subnets(prefixlen_diff=2)]))
    taken = data.draw(st.lists(st.sampled_from(hosts), max_size=10))
    pending = data.draw(st.integers(0, 3))
    of_text = address_usage_of_text(
        str(subnet), gateway=str(gateway), ip_range=str(ip_range or ""), taken=map(str, taken), pending=pending
    )
    assert of_text == address_usage(subnet, gateway=gateway, ip_range=ip_range, taken=taken, pending=pending)


@given(data=st.data(), subnet=small_subnets | st.sampled_from([IPv4Network("10.0.0.0/31"), IPv4Network("10.0.0.8/32")]))
def test_usage_of_a_network_with_its_gateway_alone_is_its_usage(data, subnet):
    near = IPv4Network(f"{subnet.network_address}/{max(0, subnet.prefixlen - 2)}", strict=False)
    gateway = data.draw(st.sampled_from([near.network_address, *near.hosts(), near.broadcast_address]))
    expected = address_usage(subnet, gateway=gateway)
    assert gateway_usage_of_text(str(subnet), str(gateway)) == expected
    assert address_usage_of_text(str(subnet), gateway=str(gateway)) == expected


def test_a_usage_of_text_is_kept_by_its_text_whatever_iterable_held_the_addresses():
    first = address_usage_of_text("10.9.0.0/24", gateway="10.9.0.1", taken=iter(["10.9.0.2", "10.9.0.2"]))
    again = address_usage_of_text("10.9.0.0/24", gateway="10.9.0.1", taken=["10.9.0.2", "10.9.0.2"])
    assert first is again
    assert (first.used, first.usable) == (2, 254)
    assert gateway_usage_of_text("10.9.1.0/24", "10.9.1.1") is gateway_usage_of_text("10.9.1.0/24", "10.9.1.1")
