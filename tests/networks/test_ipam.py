"""Tests for networks.ipam: Carina's allocation order, the validation sentences, and
properties checked against brute force on pools small enough to enumerate."""

from __future__ import annotations

from bisect import bisect_right
from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from networks import ipam
from networks.ipam import (
    SERVICENET,
    IntervalIndex,
    IpamError,
    PoolExhausted,
    Reserved,
    Taken,
    advance_floor,
    align_up,
    block,
    capacity,
    check_address,
    check_subnet,
    combine,
    default_gateway,
    first_fit,
    first_free_address,
    parse_gateway,
    parse_subnet,
    to_range,
)

POOL = IPv4Network("10.0.0.0/8")
PROPERTY = settings(max_examples=200, deadline=None)


def net(text: str) -> IPv4Network:
    return IPv4Network(text)


def addr(text: str) -> int:
    return int(IPv4Address(text))


def index_of(*nets: IPv4Network) -> IntervalIndex:
    return IntervalIndex(to_range(n) for n in nets)


class DisjointRows:
    """Stands in for the allocation table: disjoint rows indexed by start, answered
    with one bisect per lookup, the way the database answers with one index probe.
    Counts lookups, so tests can show what an allocation costs."""

    def __init__(self, ranges=()):
        rows = sorted(ranges)
        self.starts = [lo for lo, _ in rows]
        self.ends = [hi for _, hi in rows]
        self.calls = 0

    def overlap(self, lo, hi):
        # SELECT first, last ... WHERE first <= hi ORDER BY first DESC LIMIT 1
        self.calls += 1
        i = bisect_right(self.starts, hi) - 1
        return self.ends[i] if i >= 0 and self.ends[i] >= lo else None

    def cover(self, x):
        return self.overlap(x, x)

    def add(self, lo, hi):
        i = bisect_right(self.starts, lo)
        self.starts.insert(i, lo)
        self.ends.insert(i, hi)


# --------------------------------------------------------------------------- helpers


def test_to_range_align_and_block():
    assert to_range(net("10.0.1.0/24")) == (addr("10.0.1.0"), addr("10.0.1.255"))
    assert align_up(addr("10.0.1.0"), 24) == addr("10.0.1.0")
    assert align_up(addr("10.0.1.1"), 24) == addr("10.0.2.0")
    assert align_up(addr("10.0.1.1"), 22) == addr("10.0.4.0")
    assert block(addr("10.0.4.0"), 22) == net("10.0.4.0/22")


def test_combine_takes_the_furthest_answer():
    a = IntervalIndex([(0, 10)])
    b = IntervalIndex([(5, 20)])
    assert combine(a.overlap, b.overlap)(0, 3) == 10
    assert combine(a.overlap, b.overlap)(4, 6) == 20
    assert combine(a.overlap, b.overlap)(21, 30) is None
    assert combine(a.overlap, b.overlap)(7, 7) == 20  # the allocator's cover is the overlap of one address
    assert combine(a.overlap, b.overlap)(21, 21) is None


# --------------------------------------------------------------------------- Carina order


def allocate(count, *, taken=(), reserved=(SERVICENET,), prefixlen=24, pool=POOL):
    """Allocate ``count`` blocks one after another, feeding each back as taken."""
    used = index_of(*taken)
    overlap = combine(used.overlap, index_of(*reserved).overlap)
    result = []
    for _ in range(count):
        subnet = first_fit(pool, prefixlen, overlap=overlap)
        used.add(*to_range(subnet))
        result.append(subnet)
    return result


def test_empty_pool_counts_up_the_third_octet():
    assert allocate(3) == [net("10.0.0.0/24"), net("10.0.1.0/24"), net("10.0.2.0/24")]


def test_swarm_ingress_is_skipped():
    assert allocate(2, taken=[net("10.0.0.0/24")]) == [net("10.0.1.0/24"), net("10.0.2.0/24")]


def test_after_the_last_third_octet_comes_the_next_second_octet():
    assert allocate(1, taken=[net("10.0.0.0/16")]) == [net("10.1.0.0/24")]
    full = [net(f"10.0.{i}.0/24") for i in range(256)]
    assert allocate(1, taken=full) == [net("10.1.0.0/24")]


def test_larger_block_takes_the_first_aligned_free_one():
    taken = [net("10.0.0.0/24"), net("10.0.5.0/24")]
    assert allocate(1, taken=taken, prefixlen=22) == [net("10.0.8.0/22")]
    # and smaller blocks still fill the gaps below it
    assert allocate(1, taken=[*taken, net("10.0.8.0/22")]) == [net("10.0.1.0/24")]


def test_freed_block_comes_back_first():
    used = index_of()
    for _ in range(4):
        used.add(*to_range(first_fit(POOL, 24, overlap=used.overlap)))
    used.remove(*to_range(net("10.0.1.0/24")))
    used.remove(*to_range(net("10.0.3.0/24")))
    assert allocate_into(used, 3) == [net("10.0.1.0/24"), net("10.0.3.0/24"), net("10.0.4.0/24")]


def allocate_into(used, count):
    result = []
    for _ in range(count):
        result.append(first_fit(POOL, 24, overlap=used.overlap))
        used.add(*to_range(result[-1]))
    return result


def test_servicenet_is_skipped():
    # everything below ServiceNet taken, as one range to keep the test small
    below = IntervalIndex([(addr("10.0.0.0"), addr("10.176.223.255"))])
    overlap = combine(below.overlap, index_of(SERVICENET).overlap)
    assert first_fit(POOL, 24, overlap=overlap) == net("10.177.0.0/24")
    assert first_fit(POOL, 16, overlap=overlap) == net("10.177.0.0/16")


def test_each_step_jumps_a_whole_occupied_run():
    rows = DisjointRows([(addr("10.0.0.0"), addr("10.176.223.255")), to_range(SERVICENET)])
    assert first_fit(POOL, 24, overlap=rows.overlap) == net("10.177.0.0/24")
    assert rows.calls == 3


def test_full_pool_is_exhausted_with_a_sentence():
    full = index_of(POOL)
    with pytest.raises(PoolExhausted) as caught:
        first_fit(POOL, 24, overlap=full.overlap)
    assert caught.value.code == "pool_exhausted"
    assert caught.value.field is None
    assert (
        str(caught.value)
        == caught.value.message
        == (
            "No free /24 left in 10.0.0.0/8. Remove networks you no longer need, "
            "or ask an admin to widen the cluster's address pool."
        )
    )
    assert isinstance(caught.value, IpamError) and isinstance(caught.value, ValueError)


def test_exhausted_for_a_large_block_while_small_ones_remain():
    pool = net("10.0.0.0/16")
    used = index_of(*(net(f"10.0.{i}.0/24") for i in range(0, 256, 2)))
    with pytest.raises(PoolExhausted, match=r"^No free /23 left in 10\.0\.0\.0/16\. "):
        first_fit(pool, 23, overlap=used.overlap)
    assert first_fit(pool, 24, overlap=used.overlap) == net("10.0.1.0/24")


@pytest.mark.parametrize("prefixlen", [0, -1, 8, 15, 30, 32, 33, 64, 99, 10**30])
def test_prefix_outside_the_allowed_range(prefixlen):
    with pytest.raises(IpamError) as caught:
        first_fit(POOL, prefixlen, overlap=index_of().overlap)
    assert (caught.value.code, caught.value.field) == ("bad_prefix", "prefixlen")
    assert caught.value.message.startswith(f"A network in the pool 10.0.0.0/8 is from /16 to /29; /{prefixlen} is ")


def test_the_range_starts_at_the_pool_size():
    with pytest.raises(IpamError, match=r"^A network in the pool 10\.0\.0\.0/20 is from /20 to /29; /19 "):
        ipam.capacity(net("10.0.0.0/20"), 19, reserved=[], used=[])


def test_prefix_larger_than_the_pool():
    with pytest.raises(IpamError) as caught:
        first_fit(net("10.0.0.0/20"), 16, overlap=index_of().overlap)
    assert caught.value.code == "bad_prefix"
    assert "10.0.0.0/20" in caught.value.message


def test_floor_is_where_the_walk_starts():
    rows = DisjointRows([to_range(net("10.0.0.0/24"))])
    floor = advance_floor(addr("10.0.0.0"), cover=rows.cover)
    assert floor == addr("10.0.1.0")
    assert first_fit(POOL, 24, overlap=rows.overlap, floor=floor) == net("10.0.1.0/24")
    # a floor inside a block is rounded up to the next aligned start
    assert first_fit(POOL, 24, overlap=rows.overlap, floor=addr("10.0.1.7")) == net("10.0.2.0/24")
    # a floor past the pool means nothing is free
    with pytest.raises(PoolExhausted):
        first_fit(POOL, 24, overlap=rows.overlap, floor=addr("11.0.0.0"))


def test_allocation_at_60000_used_costs_what_it_costs_at_0():
    """The cost that matters is the number of lookups: with the floor maintained it is
    the same with 60,000 /24s in use as with none."""
    reserved = index_of(SERVICENET)

    def one_allocation(rows, floor):
        overlap = combine(rows.overlap, reserved.overlap)
        cover = lambda x: overlap(x, x)  # noqa: E731 (as the allocator builds it)
        rows.calls = 0
        subnet = first_fit(POOL, 24, overlap=overlap, floor=floor)
        rows.add(*to_range(subnet))
        floor = advance_floor(floor, cover=cover)
        return subnet, rows.calls, floor

    empty = DisjointRows()
    subnet, calls_at_0, _ = one_allocation(empty, addr("10.0.0.0"))
    assert subnet == net("10.0.0.0/24")

    # 60,000 /24s from 10.0.0.0 up, stepping over ServiceNet, as the allocator would
    starts, x = [], addr("10.0.0.0")
    while len(starts) < 60_000:
        if reserved.cover(x) is None:
            starts.append(x)
        x += 256
    busy = DisjointRows((s, s + 255) for s in starts)
    floor = starts[-1] + 256  # persisted by the previous allocation
    subnet, calls_at_60000, floor = one_allocation(busy, floor)
    assert subnet == block(starts[-1] + 256, 24)
    assert calls_at_60000 == calls_at_0
    assert calls_at_60000 <= 3
    assert floor == starts[-1] + 512


def test_floor_after_servicenet_jumps_it_in_one_step():
    reserved = index_of(SERVICENET)
    rows = DisjointRows([(addr("10.0.0.0"), addr("10.176.223.255"))])
    overlap = combine(rows.overlap, reserved.overlap)
    assert advance_floor(addr("10.0.0.0"), cover=lambda x: overlap(x, x)) == addr("10.177.0.0")


# --------------------------------------------------------------------------- subnet validation


def error_of(fn, *args, **kwargs) -> IpamError:
    with pytest.raises(IpamError) as caught:
        fn(*args, **kwargs)
    return caught.value


def test_parse_subnet_accepts_cidr():
    assert parse_subnet(" 10.0.1.0/24 ") == net("10.0.1.0/24")
    assert parse_subnet("10.0.1.0/255.255.255.0") == net("10.0.1.0/24")


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("abc", "not_cidr", '"abc" is not a subnet in CIDR notation, such as 10.0.1.0/24.'),
        ("10.0.1/24", "not_cidr", '"10.0.1/24" is not a subnet in CIDR notation, such as 10.0.1.0/24.'),
        ("10.0.1.0/33", "not_cidr", '"10.0.1.0/33" is not a subnet in CIDR notation, such as 10.0.1.0/24.'),
        ("", "not_cidr", "Enter a subnet in CIDR notation, such as 10.0.1.0/24."),
        (
            "10.0.1.0",
            "not_cidr",
            '"10.0.1.0" is an address, not a subnet: add a prefix length, such as 10.0.1.0/24.',
        ),
        (
            "fd00::/64",
            "not_ipv4",
            '"fd00::/64" is IPv6; overlay networks here use IPv4 subnets, such as 10.0.1.0/24.',
        ),
        (
            "fd00::1",
            "not_ipv4",
            '"fd00::1" is IPv6; overlay networks here use IPv4 subnets, such as 10.0.1.0/24.',
        ),
        ("10.0.1.5/24", "host_bits_set", "10.0.1.5/24 has host bits set: did you mean 10.0.1.0/24?"),
    ],
)
def test_parse_subnet_errors(text, code, message):
    error = error_of(parse_subnet, text)
    assert (error.code, error.message, error.field) == (code, message, "subnet")


SERVICENET_RESERVED = Reserved(SERVICENET, "ServiceNet", servicenet=True)
RESERVED = [SERVICENET_RESERVED, Reserved(net("10.50.0.0/16"), "VPN to the office")]
TAKEN = [Taken(net("10.0.0.0/24"), 'external network "ingress"'), Taken(net("10.0.3.0/24"), 'network "web"')]


def check(text, pool=POOL):
    return check_subnet(net(text), pool=pool, reserved=RESERVED, taken=TAKEN)


def test_check_subnet_accepts_a_free_subnet():
    assert check("10.0.1.0/24") is None
    assert check("10.176.0.0/19") is None  # just below ServiceNet


@pytest.mark.parametrize(
    ("subnet", "message"),
    [
        (
            "10.0.0.0/30",
            (
                "Subnets must be between /16 and /29: a /30 leaves only one address for containers "
                "once the gateway has one. Use /29 or a smaller number, such as /24."
            ),
        ),
        (
            "10.0.0.0/32",
            (
                "Subnets must be between /16 and /29: a /32 leaves no addresses for containers "
                "once the gateway has one. Use /29 or a smaller number, such as /24."
            ),
        ),
        (
            "10.0.0.0/12",
            (
                "Subnets must be between /16 and /29: a /12 would take 1,048,576 addresses from the "
                "cluster's pool. Use /16 or a larger number, such as /24."
            ),
        ),
    ],
)
def test_check_subnet_bad_prefix(subnet, message):
    error = error_of(check, subnet)
    assert (error.code, error.message, error.field) == ("bad_prefix", message, "subnet")


def test_check_subnet_outside_pool():
    error = error_of(check, "192.168.1.0/24")
    assert error.code == "outside_pool"
    assert error.message == (
        "192.168.1.0/24 is outside the cluster's address pool 10.0.0.0/8. "
        "Pick a subnet inside 10.0.0.0/8, or leave it empty to get the next free block."
    )
    error = error_of(check, "10.0.0.0/16", pool=net("10.0.0.0/20"))
    assert error.code == "outside_pool"
    assert error.message.startswith("10.0.0.0/16 reaches outside the cluster's address pool 10.0.0.0/20.")


def test_check_subnet_overlaps_servicenet():
    error = error_of(check, "10.176.230.0/24")
    assert (error.code, error.field) == ("overlaps_servicenet", "subnet")
    assert error.message == (
        "10.176.230.0/24 overlaps ServiceNet 10.176.224.0/19: containers on it would lose "
        "connectivity to ServiceNet. Pick a subnet outside 10.176.224.0/19, or leave it empty "
        "to get the next free block."
    )
    # ServiceNet is named first even when another reserved range is listed before it
    both = [Reserved(net("10.176.0.0/16"), "lab"), SERVICENET_RESERVED]
    error = error_of(check_subnet, net("10.176.224.0/24"), pool=POOL, reserved=both, taken=[])
    assert error.code == "overlaps_servicenet"


def test_check_subnet_overlaps_reserved():
    error = error_of(check, "10.50.8.0/22")
    assert error.code == "overlaps_reserved"
    assert error.message == (
        "10.50.8.0/22 overlaps the reserved range 10.50.0.0/16 (VPN to the office). "
        "Pick a subnet outside 10.50.0.0/16, or leave it empty to get the next free block."
    )


def test_check_subnet_overlaps_network():
    error = error_of(check, "10.0.0.0/22")
    assert error.code == "overlaps_network"
    assert error.message == (
        '10.0.0.0/22 overlaps external network "ingress" (10.0.0.0/24). '
        "Pick a subnet that no network uses, or leave it empty to get the next free block."
    )
    assert 'overlaps network "web" (10.0.3.0/24)' in error_of(check, "10.0.3.0/24").message


# --------------------------------------------------------------------------- gateways and addresses

SUBNET = net("10.0.1.0/24")


def test_default_gateway_is_the_first_host():
    assert default_gateway(SUBNET) == IPv4Address("10.0.1.1")
    assert parse_gateway(None, SUBNET) == IPv4Address("10.0.1.1")
    assert parse_gateway("  ", SUBNET) == IPv4Address("10.0.1.1")
    assert parse_gateway("10.0.1.254", SUBNET) == IPv4Address("10.0.1.254")


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (
            "gateway",
            "bad_gateway",
            (
                '"gateway" is not an IPv4 address. Enter an address inside 10.0.1.0/24, such as 10.0.1.1, '
                "or leave it empty to use 10.0.1.1."
            ),
        ),
        (
            "10.0.2.1",
            "gateway_outside",
            (
                "Gateway 10.0.2.1 is outside the subnet 10.0.1.0/24. Enter an address inside 10.0.1.0/24, "
                "such as 10.0.1.1, or leave it empty to use 10.0.1.1."
            ),
        ),
        (
            "10.0.1.0",
            "gateway_network_address",
            (
                "Gateway 10.0.1.0 is the network address of 10.0.1.0/24, which no host can use. "
                "Enter an address inside 10.0.1.0/24, such as 10.0.1.1, or leave it empty to use 10.0.1.1."
            ),
        ),
        (
            "10.0.1.255",
            "gateway_broadcast",
            (
                "Gateway 10.0.1.255 is the broadcast address of 10.0.1.0/24, which no host can use. "
                "Enter an address inside 10.0.1.0/24, such as 10.0.1.1, or leave it empty to use 10.0.1.1."
            ),
        ),
    ],
)
def test_parse_gateway_errors(text, code, message):
    error = error_of(parse_gateway, text, SUBNET)
    assert (error.code, error.message, error.field) == (code, message, "gateway")


GATEWAY = IPv4Address("10.0.1.1")


def test_first_free_address_skips_gateway_and_used():
    assert first_free_address(SUBNET, gateway=GATEWAY, used=set()) == IPv4Address("10.0.1.2")
    used = {IPv4Address("10.0.1.2"), IPv4Address("10.0.1.3")}
    assert first_free_address(SUBNET, gateway=GATEWAY, used=used) == IPv4Address("10.0.1.4")
    # a gateway elsewhere leaves .1 free
    assert first_free_address(SUBNET, gateway=IPv4Address("10.0.1.254"), used=set()) == GATEWAY


def test_first_free_address_in_a_16_looks_only_as_far_as_it_must():
    class CountingSet(set):
        lookups = 0

        def __contains__(self, item):
            CountingSet.lookups += 1
            return super().__contains__(item)

    used = CountingSet(IPv4Address(f"10.1.0.{i}") for i in range(2, 12))
    gateway = IPv4Address("10.1.0.1")
    assert first_free_address(net("10.1.0.0/16"), gateway=gateway, used=used) == IPv4Address("10.1.0.12")
    assert CountingSet.lookups == 11


def test_full_subnet():
    subnet = net("10.0.1.0/29")
    used = {IPv4Address(f"10.0.1.{i}") for i in range(2, 7)}
    error = error_of(first_free_address, subnet, gateway=IPv4Address("10.0.1.1"), used=used)
    assert (error.code, error.field) == ("subnet_full", "ip_address")
    assert error.message == (
        "10.0.1.0/29 has no free address left. Disconnect containers you no longer need, "
        "or use a network with a larger subnet."
    )


def test_check_address_accepts_a_free_host_and_defaults_to_the_first_free():
    used = {IPv4Address("10.0.1.2")}
    assert check_address("10.0.1.9", SUBNET, gateway=GATEWAY, used=used) == IPv4Address("10.0.1.9")
    assert check_address("", SUBNET, gateway=GATEWAY, used=used) == IPv4Address("10.0.1.3")
    assert check_address(None, SUBNET, gateway=GATEWAY, used=used) == IPv4Address("10.0.1.3")


ADDRESS_HINT = "Enter an address from 10.0.1.1 to 10.0.1.254, or leave it empty to get the next free one."


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("x", "bad_address", f'"x" is not an IPv4 address. {ADDRESS_HINT}'),
        ("10.0.2.9", "address_outside", f"Address 10.0.2.9 is outside the subnet 10.0.1.0/24. {ADDRESS_HINT}"),
        (
            "10.0.1.0",
            "address_network_address",
            f"Address 10.0.1.0 is the network address of 10.0.1.0/24, which no host can use. {ADDRESS_HINT}",
        ),
        (
            "10.0.1.255",
            "address_broadcast",
            f"Address 10.0.1.255 is the broadcast address of 10.0.1.0/24, which no host can use. {ADDRESS_HINT}",
        ),
        (
            "10.0.1.1",
            "address_is_gateway",
            "10.0.1.1 is the gateway of 10.0.1.0/24. Pick another address, or leave it empty to get the next free one.",
        ),
        (
            "10.0.1.2",
            "address_in_use",
            (
                "10.0.1.2 is already used by another container on this network. "
                "Pick another address, or leave it empty to get the next free one."
            ),
        ),
    ],
)
def test_check_address_errors(text, code, message):
    error = error_of(check_address, text, SUBNET, gateway=GATEWAY, used={IPv4Address("10.0.1.2")})
    assert (error.code, error.message, error.field) == (code, message, "ip_address")


# --------------------------------------------------------------------------- capacity


def test_capacity_of_the_default_pool():
    used = [net("10.0.0.0/24"), net("10.0.1.0/24"), net("10.0.4.0/22"), net("10.176.230.0/24")]
    result = capacity(POOL, 24, reserved=[SERVICENET], used=used)
    assert result.total_blocks == 65_536
    assert result.reserved_blocks == 32
    assert result.used_blocks == 6  # the /24 inside ServiceNet counts as reserved
    assert result.free_blocks == 65_536 - 32 - 6
    assert result.next_block == net("10.0.2.0/24")
    assert result.prefixlen == 24


def test_capacity_of_a_full_pool():
    result = capacity(net("10.0.0.0/16"), 24, reserved=[], used=[net("10.0.0.0/16")])
    assert (result.used_blocks, result.free_blocks, result.next_block) == (256, 0, None)


# --------------------------------------------------------------------------- properties

# Pools small enough to enumerate every aligned block: at most 2**9 candidates.
POOLS = st.sampled_from([net("10.0.0.0/20"), net("10.0.16.0/21"), net("10.3.8.0/22"), net("172.16.0.0/24")])


@st.composite
def pool_and_prefix(draw):
    pool = draw(POOLS)
    low = max(pool.prefixlen, ipam.MIN_PREFIXLEN)
    prefixlen = draw(st.integers(low, min(ipam.MAX_PREFIXLEN, pool.prefixlen + 9)))
    return pool, prefixlen


@st.composite
def occupied_ranges(draw, pool, max_size=12):
    """Aligned blocks of any size inside the pool, plus arbitrary ranges that may
    overlap, nest, or stick out of either end of the pool."""
    lo, hi = to_range(pool)
    size = hi - lo + 1
    ranges = []
    for _ in range(draw(st.integers(0, max_size))):
        if draw(st.booleans()):
            p = draw(st.integers(pool.prefixlen, 32))
            start = lo + draw(st.integers(0, (1 << (p - pool.prefixlen)) - 1)) * (1 << (32 - p))
            ranges.append((start, start + (1 << (32 - p)) - 1))
        else:
            start = draw(st.integers(lo - size // 8, hi))
            ranges.append((start, start + draw(st.integers(0, size // 4))))
    return ranges


def brute_first_fit(pool, prefixlen, ranges):
    lo, hi = to_range(pool)
    size = 1 << (32 - prefixlen)
    for start in range(lo, hi + 1, size):
        if not any(a <= start + size - 1 and b >= start for a, b in ranges):
            return block(start, prefixlen)
    return None


def first_fit_or_none(pool, prefixlen, **kwargs):
    try:
        return first_fit(pool, prefixlen, **kwargs)
    except PoolExhausted:
        return None


def raw_largest_end(ranges):
    """The plain reading of the overlap contract: the largest end of an overlapping range."""
    return lambda lo, hi: max((b for a, b in ranges if a <= hi and b >= lo), default=None)


def raw_smallest_end(ranges):
    """A stingy but still valid overlap answer: any overlapping range's end will do."""
    return lambda lo, hi: min((b for a, b in ranges if a <= hi and b >= lo), default=None)


@PROPERTY
@given(st.data())
def test_first_fit_is_the_lowest_free_aligned_block(data):
    pool, prefixlen = data.draw(pool_and_prefix())
    ranges = data.draw(occupied_ranges(pool))
    expected = brute_first_fit(pool, prefixlen, ranges)
    for overlap in (IntervalIndex(ranges).overlap, raw_largest_end(ranges), raw_smallest_end(ranges)):
        found = first_fit_or_none(pool, prefixlen, overlap=overlap)
        assert found == expected
        if found is not None:
            assert found.prefixlen == prefixlen
            assert found.subnet_of(pool)
            assert int(found.network_address) % (1 << (32 - prefixlen)) == 0
            lo, hi = to_range(found)
            assert not any(a <= hi and b >= lo for a, b in ranges)


@PROPERTY
@given(st.data())
def test_reserved_and_taken_combined(data):
    pool, prefixlen = data.draw(pool_and_prefix())
    reserved = data.draw(occupied_ranges(pool, max_size=3))
    taken = data.draw(occupied_ranges(pool))
    overlap = combine(IntervalIndex(reserved).overlap, DisjointRows(ipam.merge_ranges(sorted(taken))).overlap)
    assert first_fit_or_none(pool, prefixlen, overlap=overlap) == brute_first_fit(pool, prefixlen, reserved + taken)


@PROPERTY
@given(st.data())
def test_repeated_allocation_never_overlaps_and_freed_blocks_come_back(data):
    pool, prefixlen = data.draw(pool_and_prefix())
    ranges = data.draw(occupied_ranges(pool, max_size=6))
    index = IntervalIndex(ranges)
    allocated = []
    for _ in range(data.draw(st.integers(1, 20))):
        found = first_fit_or_none(pool, prefixlen, overlap=index.overlap)
        assert found == brute_first_fit(pool, prefixlen, ranges + [to_range(n) for n in allocated])
        if found is None:
            break
        assert not any(found.overlaps(earlier) for earlier in allocated)
        allocated.append(found)
        index.add(*to_range(found))
    assume(allocated)
    freed = data.draw(st.sampled_from(allocated))
    index.remove(*to_range(freed))
    allocated.remove(freed)
    again = first_fit(pool, prefixlen, overlap=index.overlap)
    assert again == brute_first_fit(pool, prefixlen, ranges + [to_range(n) for n in allocated])
    assert again.network_address <= freed.network_address


@PROPERTY
@given(st.data())
def test_any_floor_up_to_the_advanced_floor_gives_the_same_answer(data):
    pool, prefixlen = data.draw(pool_and_prefix())
    ranges = data.draw(occupied_ranges(pool))
    index = IntervalIndex(ranges)
    pool_lo, _ = to_range(pool)
    floor = advance_floor(pool_lo, cover=index.cover)
    # everything below the floor is covered, the floor itself is not
    assert all(any(a <= x <= b for a, b in ranges) for x in range(pool_lo, min(floor, pool_lo + 4096)))
    assert not any(a <= floor <= b for a, b in ranges)
    some_floor = data.draw(st.integers(pool_lo - 100, floor))
    expected = first_fit_or_none(pool, prefixlen, overlap=index.overlap)
    assert first_fit_or_none(pool, prefixlen, overlap=index.overlap, floor=some_floor) == expected
    # the per-range lookups of the database jump the same runs, one range at a time
    rows = DisjointRows(ipam.merge_ranges(sorted(ranges)))
    assert advance_floor(pool_lo, cover=rows.cover) == floor


@PROPERTY
@given(st.data())
def test_capacity_adds_up_and_agrees_with_brute_force(data):
    pool, prefixlen = data.draw(pool_and_prefix())

    def networks(max_size):
        ps = st.integers(max(pool.prefixlen - 2, 0), 32)
        return st.lists(
            st.builds(
                lambda p, i: IPv4Network((int(pool.network_address) + i, p), strict=False),
                ps,
                st.integers(0, pool.num_addresses - 1),
            ),
            max_size=max_size,
        )

    reserved = data.draw(networks(3))
    used = data.draw(networks(12))
    result = capacity(pool, prefixlen, reserved=reserved, used=used)
    assert result.used_blocks + result.reserved_blocks + result.free_blocks == result.total_blocks

    counts = {"reserved": 0, "used": 0, "free": 0}
    for candidate in pool.subnets(new_prefix=prefixlen):
        if any(candidate.overlaps(r) for r in reserved):
            counts["reserved"] += 1
        elif any(candidate.overlaps(u) for u in used):
            counts["used"] += 1
        else:
            counts["free"] += 1
    assert (result.reserved_blocks, result.used_blocks, result.free_blocks) == (
        counts["reserved"],
        counts["used"],
        counts["free"],
    )
    assert result.total_blocks == 1 << (prefixlen - pool.prefixlen)
    expected_next = brute_first_fit(pool, prefixlen, [to_range(n) for n in (*reserved, *used)])
    assert result.next_block == expected_next
    assert (result.free_blocks == 0) == (result.next_block is None)


UNIVERSE = 128
small_ranges = st.lists(
    st.integers(0, UNIVERSE - 1).flatmap(
        lambda lo: st.tuples(st.just(lo), st.integers(lo, min(lo + 40, UNIVERSE - 1)))
    ),
    max_size=15,
)


def brute_runs(ranges):
    """For each address, the last address of the occupied run it is in (or None)."""
    occupied = [any(a <= x <= b for a, b in ranges) for x in range(UNIVERSE + 1)]
    run_end = [None] * (UNIVERSE + 1)
    for x in range(UNIVERSE - 1, -1, -1):
        if occupied[x]:
            run_end[x] = run_end[x + 1] if occupied[x + 1] else x
    return occupied, run_end


@PROPERTY
@given(small_ranges, st.data())
def test_interval_index_agrees_with_brute_force(ranges, data):
    index = IntervalIndex()
    for r in ranges:
        index.add(*r)
    kept = list(ranges)
    for r in data.draw(st.lists(st.sampled_from(ranges), max_size=len(ranges)) if ranges else st.just([])):
        if r in kept:
            kept.remove(r)
            index.remove(*r)
    assert len(index) == len(kept)
    occupied, run_end = brute_runs(kept)
    for x in range(UNIVERSE):
        assert index.cover(x) == run_end[x]
    for lo, hi in data.draw(st.lists(st.tuples(st.integers(0, UNIVERSE - 1), st.integers(0, 40)), max_size=30)):
        hi = min(lo + hi, UNIVERSE - 1)
        last = max((x for x in range(lo, hi + 1) if occupied[x]), default=None)
        assert index.overlap(lo, hi) == (None if last is None else run_end[last])
    # building at once and adding one by one give the same index
    rebuilt = IntervalIndex(kept)
    assert [rebuilt.cover(x) for x in range(UNIVERSE)] == [index.cover(x) for x in range(UNIVERSE)]


def test_interval_index_remove_of_a_missing_range():
    index = IntervalIndex([(0, 10)])
    with pytest.raises(KeyError):
        index.remove(0, 9)
    index.add(0, 10)
    index.remove(0, 10)
    assert index.cover(5) == 10  # the other copy is still there
    index.remove(0, 10)
    assert index.cover(5) is None


def test_first_overlapping_names_the_first_ipv4_block_that_overlaps():
    candidates = [
        ("v6", "fd00::/64"),
        ("unreadable", "not a subnet"),
        ("beside", "10.0.108.0/24"),
        ("wide", "10.0.0.0/16"),
        ("inside", "10.0.109.128/25"),
    ]
    assert ipam.first_overlapping(IPv4Network("10.0.109.0/24"), candidates) == ("wide", IPv4Network("10.0.0.0/16"))
    assert ipam.first_overlapping(IPv4Network("10.0.109.0/24"), candidates[4:]) == (
        "inside",
        IPv4Network("10.0.109.128/25"),
    )
    assert ipam.first_overlapping(IPv4Network("10.1.0.0/24"), candidates) is None
