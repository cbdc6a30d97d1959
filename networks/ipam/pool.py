"""The pool and its blocks: bounds, errors, integer ranges, the lookups the database answers, and the
first-fit allocation in Carina's order."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_network

from plumbing.errors import ServiceError

MIN_PREFIXLEN = 16
MAX_PREFIXLEN = 29
SERVICENET = IPv4Network("10.176.224.0/19")

SUBNET_EXAMPLE = "10.0.1.0/24"
OR_LEAVE_EMPTY = "or leave it empty to get the next free block"


# --------------------------------------------------------------------------- errors


class IpamError(ServiceError, ValueError):
    """A mistake a user can make or a limit a user can hit, told as a sentence.

    ``code`` is a short slug that tests and API clients can match on, ``message`` a
    sentence that says what to do, ``field`` the form field it belongs to
    (``"subnet"``, ``"gateway"``, ``"ip_address"``) or ``None`` when it is about the
    request as a whole.
    """

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message, field=field)


class PoolExhausted(IpamError):
    """No block of the requested size is free: the API answers it with HTTP 409."""

    http_status = 409

    def __init__(self, pool: IPv4Network, prefixlen: int) -> None:
        super().__init__(
            "pool_exhausted",
            f"No free /{prefixlen} left in {pool}. Remove networks you no longer need, "
            "or ask an admin to widen the cluster's address pool.",
        )
        self.pool = pool
        self.prefixlen = prefixlen


# --------------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class Reserved:
    """A range no network may use; ``servicenet`` marks Carina's ServiceNet, which gets its own warning."""

    network: IPv4Network
    description: str
    servicenet: bool = False


@dataclass(frozen=True)
class Taken:
    """A subnet already in use, with its owner told the way a user would recognise it,
    e.g. ``'network "web"'`` or ``'external network "ingress"'``."""

    network: IPv4Network
    owner: str


def to_range(net: IPv4Network) -> tuple[int, int]:
    """The first and last address of ``net`` as ints, both inclusive."""
    return int(net.network_address), int(net.broadcast_address)


def align_up(value: int, prefixlen: int) -> int:
    """The smallest start of an aligned /``prefixlen`` block that is >= ``value``."""
    size = 1 << (32 - prefixlen)
    return -(-value // size) * size


def block(start: int, prefixlen: int) -> IPv4Network:
    """The /``prefixlen`` network starting at int ``start`` (which must be aligned)."""
    return IPv4Network((start, prefixlen))


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges merged into disjoint runs; touching ranges join, since nothing fits between them."""
    runs: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if runs and lo <= runs[-1][1] + 1:
            if hi > runs[-1][1]:
                runs[-1] = (runs[-1][0], hi)
        else:
            runs.append((lo, hi))
    return runs


# --------------------------------------------------------------------------- lookups

OverlapFn = Callable[[int, int], int | None]
"""``overlap(lo, hi)``: the last address of an occupied run that overlaps [lo, hi], or
``None`` when [lo, hi] is free.  Any such end is correct; the largest skips furthest.
For disjoint rows indexed by start, the row with the largest start <= hi is the answer
when its end >= lo, and otherwise nothing overlaps: one index probe."""

CoverFn = Callable[[int], int | None]
"""``cover(x)``: the last address of an occupied run containing ``x``, or ``None``."""


def combine(*fns: OverlapFn) -> OverlapFn:
    """One overlap lookup over several sources (allocations, reserved, external networks).

    Each answer is the end of a run that overlaps the query, so the largest is as good
    an answer as any, and skips furthest.
    """

    def overlap(lo: int, hi: int) -> int | None:
        return max((end for fn in fns if (end := fn(lo, hi)) is not None), default=None)

    return overlap


class IntervalIndex:
    """An in-memory set of occupied int ranges, which may overlap or nest.

    Reserved ranges and external networks can overlap each other and the portal's
    own subnets, so the index keeps every range it was given (to remove exactly one
    later) and, beside them, their union as sorted disjoint runs, which answer
    :meth:`overlap` and :meth:`cover` with one bisect.  Used for the few reserved and
    external ranges, and as the reference implementation in tests.
    """

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._ranges = sorted(ranges)
        for lo, hi in self._ranges:
            _check_range(lo, hi)
        runs = merge_ranges(self._ranges)
        self._starts = [lo for lo, _ in runs]
        self._ends = [hi for _, hi in runs]

    def __len__(self) -> int:
        return len(self._ranges)

    def add(self, lo: int, hi: int) -> None:
        """Add [lo, hi]; it joins every run it overlaps or touches."""
        _check_range(lo, hi)
        insort(self._ranges, (lo, hi))
        first = bisect_left(self._ends, lo - 1)  # first run ending at or after lo - 1
        stop = bisect_right(self._starts, hi + 1)  # runs before stop start at or before hi + 1
        if first < stop:
            lo = min(lo, self._starts[first])
            hi = max(hi, self._ends[stop - 1])
        self._starts[first:stop] = [lo]
        self._ends[first:stop] = [hi]

    def remove(self, lo: int, hi: int) -> None:
        """Remove one [lo, hi] that was added; the run it was part of is rebuilt from the ranges left in it."""
        i = bisect_left(self._ranges, (lo, hi))
        if i == len(self._ranges) or self._ranges[i] != (lo, hi):
            raise KeyError((lo, hi))
        del self._ranges[i]
        run = bisect_right(self._starts, lo) - 1
        run_lo, run_hi = self._starts[run], self._ends[run]
        inside = self._ranges[bisect_left(self._ranges, (run_lo,)) : bisect_left(self._ranges, (run_hi + 1,))]
        runs = merge_ranges(inside)
        self._starts[run : run + 1] = [r_lo for r_lo, _ in runs]
        self._ends[run : run + 1] = [r_hi for _, r_hi in runs]

    def overlap(self, lo: int, hi: int) -> int | None:
        """The end of the last run overlapping [lo, hi] (an :data:`OverlapFn`)."""
        run = bisect_right(self._starts, hi) - 1
        if run >= 0 and self._ends[run] >= lo:
            return self._ends[run]
        return None

    def cover(self, x: int) -> int | None:
        """The end of the run containing ``x`` (a :data:`CoverFn`)."""
        return self.overlap(x, x)


def _check_range(lo: int, hi: int) -> None:
    if lo > hi:
        raise ValueError(f"empty range [{lo}, {hi}]")


# --------------------------------------------------------------------------- allocation


def prefixlen_range(pool: IPv4Network) -> tuple[int, int]:
    """The sizes a network in ``pool`` may have: no larger than the pool (nor /16), no smaller than /29."""
    return max(pool.prefixlen, MIN_PREFIXLEN), MAX_PREFIXLEN


def check_prefixlen(pool: IPv4Network, prefixlen: int) -> None:
    """Refuse a size asked for the next free block that the pool cannot give (0 included: it is no default)."""
    low, high = prefixlen_range(pool)
    if isinstance(prefixlen, int) and not isinstance(prefixlen, bool) and low <= prefixlen <= high:
        return
    raise IpamError(
        "bad_prefix",
        f"A network in the pool {pool} is from /{low} to /{high}; /{prefixlen} is outside that range. "
        f"Ask for /24 (254 addresses), or leave the size out for the cluster's default.",
        "prefixlen",
    )


def prefix_error(prefixlen: int) -> IpamError:
    bounds = f"Subnets must be between /{MIN_PREFIXLEN} and /{MAX_PREFIXLEN}"
    if prefixlen > MAX_PREFIXLEN:
        hosts = max((1 << max(32 - prefixlen, 0)) - 2, 0)
        room = "only one address" if hosts == 2 else "no addresses"
        reason = f"a /{prefixlen} leaves {room} for containers once the gateway has one"
        advice = f"Use /{MAX_PREFIXLEN} or a smaller number, such as /24."
    else:
        reason = f"a /{prefixlen} would take {1 << (32 - prefixlen):,} addresses from the cluster's pool"
        advice = f"Use /{MIN_PREFIXLEN} or a larger number, such as /24."
    return IpamError("bad_prefix", f"{bounds}: {reason}. {advice}", "subnet")


def first_fit(pool: IPv4Network, prefixlen: int, *, overlap: OverlapFn, floor: int | None = None) -> IPv4Network:
    """The lowest free aligned /``prefixlen`` block of ``pool``.

    ``floor`` is an address below which no free block can start -- the persisted
    result of :func:`advance_floor` -- so the walk starts there rather than at the
    pool's start.  Each step asks ``overlap`` about one candidate block and, when it
    is occupied, jumps past the occupied run it was told about, so the cost is the
    number of occupied runs between the floor and the first gap.

    Raises :class:`PoolExhausted` when no block is free, and :class:`IpamError`
    ``bad_prefix`` for a prefix length outside /16../29 or larger than the pool.
    """
    check_prefixlen(pool, prefixlen)
    pool_lo, pool_hi = to_range(pool)
    last_offset = (1 << (32 - prefixlen)) - 1
    candidate = align_up(max(pool_lo, floor if floor is not None else pool_lo), prefixlen)
    while candidate + last_offset <= pool_hi:
        end = overlap(candidate, candidate + last_offset)
        if end is None:
            return block(candidate, prefixlen)
        if end < candidate:
            raise ValueError(f"overlap({candidate}, {candidate + last_offset}) returned {end}, before the block")
        candidate = align_up(end + 1, prefixlen)
    raise PoolExhausted(pool, prefixlen)


def free_blocks(
    pool: IPv4Network,
    prefixlen: int,
    *,
    occupied: Iterable[tuple[int, int]],
    floor: int | None = None,
    limit: int = 10,
) -> list[IPv4Network]:
    """The first ``limit`` free aligned /``prefixlen`` blocks of ``pool`` in Carina's order (lowest first):
    the blocks :func:`first_fit` would hand out one after another.

    ``occupied`` are the taken ranges from ``floor`` on, sorted by their start (they may overlap or
    nest: reserved ranges, held blocks); the walk reads them lazily and stops at the ``limit``-th free
    block, so a caller can page them out of an index a few rows at a time.
    """
    check_prefixlen(pool, prefixlen)
    pool_lo, pool_hi = to_range(pool)
    size = 1 << (32 - prefixlen)
    candidate = align_up(max(pool_lo, floor if floor is not None else pool_lo), prefixlen)
    found: list[IPv4Network] = []

    def take_before(limit_address: int) -> None:
        nonlocal candidate
        while len(found) < limit and candidate + size - 1 < limit_address and candidate + size - 1 <= pool_hi:
            found.append(block(candidate, prefixlen))
            candidate += size

    for lo, hi in occupied:
        take_before(lo)
        if len(found) >= limit or candidate > pool_hi:
            return found
        if hi >= candidate:
            candidate = align_up(hi + 1, prefixlen)
    take_before(pool_hi + 1)
    return found


def advance_floor(floor: int, *, cover: CoverFn) -> int:
    """Move ``floor`` past every occupied run that starts at it.

    Returns the first address not known to be occupied.  Call it after an allocation
    (a dense fill moves it one block per step); when a block below the floor is freed,
    lower the floor to that block's start instead.  Any address at or below the true
    floor is a valid ``floor`` for :func:`first_fit`, so a stale low floor only costs
    time, never correctness.
    """
    while (end := cover(floor)) is not None:
        if end < floor:
            raise ValueError(f"cover({floor}) returned {end}, before the address")
        floor = end + 1
    return floor


def first_overlapping(subnet: IPv4Network, candidates: Iterable[tuple[str, str]]) -> tuple[str, IPv4Network] | None:
    """The first ``(name, cidr)`` whose IPv4 block overlaps ``subnet``, as ``(name, block)``; None when
    none does. IPv6 and unreadable CIDRs are skipped (what a swarm lists is not checked elsewhere)."""
    for name, cidr in candidates:
        try:
            other = ip_network(cidr, strict=False)
        except ValueError:
            continue
        if other.version == 4 and other.overlaps(subnet):
            return name, other
    return None
