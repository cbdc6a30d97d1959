"""Tests for networks.ipam.free_blocks: the next free blocks of a size, checked against handing them out
one after another with first_fit, and against brute force, on pools small enough to enumerate."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from networks.ipam import IntervalIndex, IpamError, PoolExhausted, first_fit, free_blocks, to_range

POOL = IPv4Network("10.0.0.0/20")


def test_the_free_blocks_skip_what_is_taken_in_carinas_order():
    taken = [to_range(IPv4Network(c)) for c in ("10.0.0.0/24", "10.0.1.0/26", "10.0.1.128/25")]
    assert [str(b) for b in free_blocks(POOL, 26, occupied=taken, limit=3)] == [
        "10.0.1.64/26",
        "10.0.2.0/26",
        "10.0.2.64/26",
    ]
    assert free_blocks(POOL, 24, occupied=taken, limit=2) == [IPv4Network("10.0.2.0/24"), IPv4Network("10.0.3.0/24")]


def test_a_full_pool_has_none_and_a_bad_size_is_refused():
    assert free_blocks(POOL, 24, occupied=[to_range(POOL)], limit=5) == []
    with pytest.raises(IpamError) as excinfo:
        free_blocks(POOL, 12, occupied=[], limit=5)
    assert excinfo.value.code == "bad_prefix"


def test_the_walk_reads_only_what_it_needs():
    read = []

    def occupied():
        for n in range(16):
            read.append(n)
            yield to_range(IPv4Network(f"10.0.{n}.0/25"))

    assert len(free_blocks(POOL, 25, occupied=occupied(), limit=2)) == 2
    assert read == [0, 1, 2], "two free blocks lie before the third held one"


ranges = st.lists(
    st.builds(
        lambda start, prefixlen: IPv4Network(
            (int(POOL.network_address) + (start << (32 - prefixlen)) % 4096, prefixlen)
        ),
        st.integers(min_value=0, max_value=255),
        st.integers(min_value=22, max_value=29),
    ),
    max_size=12,
)


@given(taken=ranges, prefixlen=st.integers(min_value=22, max_value=29), limit=st.integers(min_value=1, max_value=20))
def test_free_blocks_are_what_first_fit_hands_out_in_turn(taken, prefixlen, limit):
    occupied = sorted(to_range(net) for net in taken)
    found = free_blocks(POOL, prefixlen, occupied=occupied, limit=limit)
    index = IntervalIndex(occupied)
    expected = []
    for _ in range(limit):
        try:
            chosen = first_fit(POOL, prefixlen, overlap=index.overlap)
        except PoolExhausted:
            break
        expected.append(chosen)
        index.add(*to_range(chosen))
    assert found == expected
    brute = [b for b in POOL.subnets(new_prefix=prefixlen) if not any(b.overlaps(t) for t in taken)]
    assert found == brute[:limit]
