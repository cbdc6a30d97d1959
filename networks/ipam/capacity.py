"""How full a pool is: held, reserved and free addresses, from the merged ranges."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from socket import inet_aton

from .pool import IntervalIndex, PoolExhausted, check_prefixlen, first_fit, merge_ranges, to_range

# --------------------------------------------------------------------------- capacity


@dataclass(frozen=True)
class Capacity:
    """How a pool's /``prefixlen`` blocks are spent.

    A block touched by a reserved range counts as reserved even when a network
    also uses it; ``used + reserved + free == total``.
    """

    prefixlen: int
    total_blocks: int
    used_blocks: int
    reserved_blocks: int
    free_blocks: int
    next_block: IPv4Network | None


def capacity(
    pool: IPv4Network, prefixlen: int, *, reserved: Sequence[IPv4Network], used: Sequence[IPv4Network]
) -> Capacity:
    """Count the pool's /``prefixlen`` blocks that are reserved, used and free.

    Computed from merged ranges of block numbers, O(k log k) in the number of
    ranges, never by visiting the 65,536 /24s of a /8.
    """
    check_prefixlen(pool, prefixlen)
    shift = 32 - prefixlen
    pool_lo, pool_hi = to_range(pool)

    def block_runs(nets: Sequence[IPv4Network]) -> list[tuple[int, int]]:
        spans = []
        for net in nets:
            lo, hi = to_range(net)
            lo, hi = max(lo, pool_lo), min(hi, pool_hi)
            if lo <= hi:
                spans.append((lo >> shift, hi >> shift))
        return merge_ranges(sorted(spans))

    reserved_runs, used_runs = block_runs(reserved), block_runs(used)
    reserved_blocks = _size(reserved_runs)
    used_blocks = _size(used_runs) - _intersection_size(used_runs, reserved_runs)
    total = 1 << (prefixlen - pool.prefixlen)

    index = IntervalIndex(to_range(net) for net in (*reserved, *used))
    try:
        next_block: IPv4Network | None = first_fit(pool, prefixlen, overlap=index.overlap)
    except PoolExhausted:
        next_block = None
    return Capacity(
        prefixlen=prefixlen,
        total_blocks=total,
        used_blocks=used_blocks,
        reserved_blocks=reserved_blocks,
        free_blocks=total - used_blocks - reserved_blocks,
        next_block=next_block,
    )


def _size(runs: list[tuple[int, int]]) -> int:
    return sum(hi - lo + 1 for lo, hi in runs)


def _intersection_size(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """How many integers two lists of sorted disjoint runs share, in one merge pass."""
    shared, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            shared += hi - lo + 1
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return shared


@dataclass(frozen=True)
class AddressUsage:
    """How full one network is: addresses taken of those Docker hands out (its IP range, or the subnet)."""

    used: int
    usable: int

    @property
    def ratio(self) -> float:
        return self.used / self.usable if self.usable else 1.0

    @property
    def full(self) -> bool:
        return self.used >= self.usable


def address_usage(
    subnet: IPv4Network,
    *,
    gateway: IPv4Address,
    ip_range: IPv4Network | None = None,
    taken: Iterable[IPv4Address] = (),
    pending: int = 0,
) -> AddressUsage:
    """Used and usable addresses of the part Docker hands out: `ip_range` when the network has one (as
    Docker does), else the subnet, without its network and broadcast addresses.

    Used counts the gateway, auxiliary addresses and containers' addresses (`taken`) that lie in that
    part, once each, and `pending` attachments whose address Docker has yet to give (they will take one
    from it). A static address outside the range takes none of the range's.
    """
    return _usage(
        to_range(ip_range or subnet), to_range(subnet), {int(address) for address in (gateway, *taken)}, pending
    )


def address_usage_of_text(
    subnet: str, *, gateway: str, ip_range: str = "", taken: Iterable[str] = (), pending: int = 0
) -> AddressUsage:
    """`address_usage` of a network as the database holds it (text in canonical form, checked when it was
    written): the same answer, parsed about ten times faster than through `ipaddress`, for pages and
    API lists of a thousand networks; and kept (`_usage_of_text`)."""
    return _usage_of_text(subnet, gateway, ip_range, tuple(taken), pending)


# A process keeps the usages it worked out last, by the text they were worked out from: the same networks
# come back on every page and live refresh, and a key is cheaper than the count (an API page of 1,000
# networks: 1.9 -> 0.5 ms). An answer is frozen, so every caller may share it. About 250 bytes an entry.
USAGES_KEPT = 4096


@functools.lru_cache(maxsize=USAGES_KEPT)
def _usage_of_text(subnet: str, gateway: str, ip_range: str, taken: tuple[str, ...], pending: int) -> AddressUsage:
    subnet_range = _text_range(subnet)
    addresses = {_text_int(address) for address in (gateway, *taken)}
    return _usage(_text_range(ip_range) if ip_range else subnet_range, subnet_range, addresses, pending)


@functools.lru_cache(maxsize=USAGES_KEPT)
def gateway_usage_of_text(subnet: str, gateway: str) -> AddressUsage:
    """`address_usage_of_text` of a network with no IP range and no address taken but its gateway's (most
    networks of a page): the same answer, without the general count; kept as `_usage_of_text` is."""
    first, last = _text_range(subnet)
    usable = max(0, last - first - 1)  # without the network and broadcast addresses
    return AddressUsage(used=min(usable, int(first < _text_int(gateway) < last)), usable=usable)


def _text_int(address: str) -> int:
    return int.from_bytes(inet_aton(address), "big")


def _text_range(network: str) -> tuple[int, int]:
    address, _, prefixlen = network.partition("/")
    size = 1 << (32 - int(prefixlen))
    first = _text_int(address) & -size
    return first, first + size - 1


def _usage(part: tuple[int, int], subnet: tuple[int, int], addresses: set[int], pending: int) -> AddressUsage:
    lo, hi = max(part[0], subnet[0] + 1), min(part[1], subnet[1] - 1)
    usable = max(0, hi - lo + 1)
    used = sum(1 for address in addresses if lo <= address <= hi) + pending
    return AddressUsage(used=min(used, usable), usable=usable)
