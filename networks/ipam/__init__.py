"""Subnet arithmetic for overlay networks: pure stdlib ``ipaddress``, no Django, no I/O.

Subnets are handed out in Carina's order: the first free block at the requested
prefix length, lowest address first, aligned to its size (10.0.0.0/24, 10.0.1.0/24,
... 10.0.255.0/24, 10.1.0.0/24, ...).  A freed block is therefore handed out again
before any higher one.  Never handed out: anything overlapping a reserved range
(ServiceNet 10.176.224.0/19 and ranges admins add), any existing network's subnet
(portal-made or external, such as the swarm ingress network's 10.0.0.0/24) and
subnets still held by networks being removed.

Addresses are plain ``int``s inside the algorithms so that the database layer can
store a range as two indexed integer columns.  The allocator does not see a list of
allocations: it asks *lookup callbacks* (:data:`OverlapFn`, :data:`CoverFn`) that the
database answers with O(log n) index queries, and it starts at a persisted *floor*
below which everything is known to be taken.  The cost of an allocation is then the
number of occupied ranges between the floor and the first gap -- for a dense
first-fit fill, a constant, whether 0 or 60,000 blocks are in use.

Errors users can cause are :class:`IpamError` instances carrying a short ``code``, a
sentence that says what to do, and the form ``field`` it belongs to.

Three modules: `pool` (bounds, errors, ranges, lookups, first-fit), `inputs` (subnets, gateways
and addresses as typed), `options` (IP ranges and
auxiliary addresses) and `capacity`; this face hands their names on as `ipam.<name>`.
"""

from .capacity import AddressUsage, Capacity, address_usage, address_usage_of_text, capacity, gateway_usage_of_text
from .inputs import check_address, check_subnet, default_gateway, first_free_address, parse_gateway, parse_subnet
from .options import AUX_MAX, address_holders, parse_aux_addresses, parse_ip_range, range_avoiding
from .pool import (
    MAX_PREFIXLEN,
    MIN_PREFIXLEN,
    OR_LEAVE_EMPTY,
    SERVICENET,
    SUBNET_EXAMPLE,
    CoverFn,
    IntervalIndex,
    IpamError,
    OverlapFn,
    PoolExhausted,
    Reserved,
    Taken,
    advance_floor,
    align_up,
    block,
    check_prefixlen,
    combine,
    first_fit,
    first_overlapping,
    free_blocks,
    merge_ranges,
    prefix_error,
    prefixlen_range,
    to_range,
)

__all__ = [
    "AddressUsage",
    "address_usage",
    "address_usage_of_text",
    "gateway_usage_of_text",
    "AUX_MAX",
    "address_holders",
    "parse_aux_addresses",
    "parse_ip_range",
    "range_avoiding",
    "Capacity",
    "CoverFn",
    "IntervalIndex",
    "IpamError",
    "MAX_PREFIXLEN",
    "MIN_PREFIXLEN",
    "OR_LEAVE_EMPTY",
    "OverlapFn",
    "PoolExhausted",
    "Reserved",
    "SERVICENET",
    "SUBNET_EXAMPLE",
    "Taken",
    "advance_floor",
    "align_up",
    "block",
    "capacity",
    "check_address",
    "check_prefixlen",
    "check_subnet",
    "combine",
    "default_gateway",
    "first_fit",
    "first_free_address",
    "first_overlapping",
    "free_blocks",
    "merge_ranges",
    "parse_gateway",
    "parse_subnet",
    "prefix_error",
    "prefixlen_range",
    "to_range",
]
