"""The allocation map as plain data for its SVG template: pure Python, no Django, no I/O.

A pool such as 10.0.0.0/8 holds 65,536 /24 blocks, too many to draw one by one, so it is drawn at two
zoom levels of at most 256 cells each: an overview of the pool (a /8 gives 256 /16 cells, each shaded
by how much of it is held) and a detail grid of one overview cell (its 256 /24 blocks, each coloured by
its holder: the team's network, another team's, an external one, a reserved range such as ServiceNet,
or nobody).

The overview needs no block one by one: a cell far from the detail is drawn from how many blocks of each
kind it holds and how many addresses they cover (`summary_holders`), so a swarm of ten thousand networks
costs the picture no more than one of a thousand.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network
from itertools import accumulate

GRID_LOG2 = 8  # at most 2**8 = 256 cells per grid
GRID_CELL = 26  # a cell's side in SVG units
GRID_STRIDE = 28  # a cell and the gap after it
GRID_LEFT = 64  # room for the row labels
GRID_TOP = 8


# Kinds of holder, in the order the legend lists them.
class HolderKind(StrEnum):
    """What holds a range of the pool, as the map colours it (the templates compare the plain strings)."""

    NETWORK = "network"  # the viewer's team's network, or one shared with it
    OTHER_TEAM = "other"
    EXTERNAL = "external"
    RESERVED = "reserved"
    SERVICENET = "servicenet"


KIND_NAMES: dict[str, str] = {
    HolderKind.NETWORK: "portal network",
    HolderKind.OTHER_TEAM: "another team's network",
    HolderKind.EXTERNAL: "external network",
    HolderKind.RESERVED: "reserved range",
    HolderKind.SERVICENET: "ServiceNet",
}


@dataclass(frozen=True)
class Holder:
    """A range of the pool that is held (by a network) or reserved (ServiceNet, a host network)."""

    first: int
    last: int
    kind: str
    owner: str
    cidr: str
    network_id: int | None = None
    count: int = 1  # blocks this holder stands for: more than one for a cell's summary (summary_holders)

    @classmethod
    def of(cls, block: IPv4Network, kind: str, owner: str, network_id: int | None = None) -> Holder:
        return cls(int(block.network_address), int(block.broadcast_address), kind, owner, str(block), network_id)

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    @property
    def description(self) -> str:
        return f"{self.cidr}: {self.owner}"


class HolderIndex:
    """Holders sorted by first address, answering "who overlaps this range" with two bisections.

    Holders may overlap each other (an external network inside a reserved range), so the search
    start comes from the running maximum of the last addresses, which never decreases.
    """

    def __init__(self, holders: Sequence[Holder]):
        self.holders = sorted(holders, key=lambda h: (h.first, h.last))
        self._firsts = [h.first for h in self.holders]
        self._reach = list(accumulate((h.last for h in self.holders), max))

    def overlapping(self, first: int, last: int) -> list[Holder]:
        start = bisect_left(self._reach, first)
        stop = bisect_right(self._firsts, last)
        return [h for h in self.holders[start:stop] if h.last >= first]


def _covered(first: int, last: int, holders: Sequence[Holder]) -> int:
    """How many addresses of [first, last] the holders cover together (holders sorted by first)."""
    total, end = 0, first - 1
    for holder in holders:
        lo, hi = max(holder.first, end + 1), min(holder.last, last)
        if lo <= hi:
            total += hi - lo + 1
            end = hi
    return total


@dataclass(frozen=True)
class Cell:
    """One square of a grid: a block of the pool and what holds it."""

    block: IPv4Network
    column: int
    row: int
    state: str  # free, next, a holder kind when one kind covers it all, or "partial"
    held: float  # share of the block's addresses held or reserved, 0..1
    holders: tuple[Holder, ...]
    is_next: bool

    @property
    def level(self) -> int:
        """0 nothing held, 1 under a quarter, 2 under half, 3 more, 4 all of it."""
        if self.held <= 0:
            return 0
        if self.held >= 1:
            return 4
        return 1 if self.held < 0.25 else 2 if self.held < 0.5 else 3

    @property
    def x(self) -> int:
        return GRID_LEFT + self.column * GRID_STRIDE

    @property
    def y(self) -> int:
        return GRID_TOP + self.row * GRID_STRIDE

    @property
    def centre_x(self) -> int:
        return self.x + GRID_CELL // 2

    @property
    def centre_y(self) -> int:
        return self.y + GRID_CELL // 2

    @property
    def short_name(self) -> str:
        """The block's address without its trailing zero octets: 10.16.0.0/16 -> 10.16, 10.0.7.0/24 -> 10.0.7."""
        octets = str(self.block.network_address).split(".")
        return ".".join(octets[: max(-(-self.block.prefixlen // 8), 1)])

    @property
    def kinds(self) -> list[str]:
        return [kind for kind in KIND_NAMES if any(h.kind == kind for h in self.holders)]

    @property
    def label(self) -> str:
        """The octet that tells the cells of a grid apart: 10.3.0.0/16 -> "3", 10.0.7.0/24 -> "7"."""
        octets = str(self.block.network_address).split(".")
        index = max(self.block.prefixlen // 8 - 1, 0)
        return octets[index] if self.block.prefixlen % 8 == 0 else f"{octets[index]}.{octets[index + 1]}"

    def _phrase(self, holder: Holder) -> str:
        if holder.cidr == str(self.block):
            return holder.owner
        if holder.first <= int(self.block.network_address) and holder.last >= int(self.block.broadcast_address):
            return f"part of {holder.owner} ({holder.cidr})"
        return f"{holder.owner} ({holder.cidr})"

    @property
    def title(self) -> str:
        """What hovering over the cell says: the block, how much of it is held, and by whom."""
        if not self.holders:
            return f"{self.block}: free" + (" — the next network gets this block" if self.state == "next" else "")
        held = "" if self.held >= 1 else f" ({self.held:.0%} held)"
        if sum(h.count for h in self.holders) <= 3:
            names = "; ".join(self._phrase(h) for h in self.holders)
        else:
            counts = {kind: sum(h.count for h in self.holders if h.kind == kind) for kind in self.kinds}
            names = ", ".join(f"{n} {KIND_NAMES[kind]}{'s' if n > 1 else ''}" for kind, n in counts.items())
        return f"{self.block}{held}: {names}"


def grid(area: IPv4Network, cell_prefixlen: int, index: HolderIndex, next_block: IPv4Network | None) -> list[Cell]:
    """The cells of `area` at /`cell_prefixlen`, row by row, with what holds each."""
    count = 1 << (cell_prefixlen - area.prefixlen)
    columns = 1 << ((count.bit_length() - 1 + 1) // 2)
    size = 1 << (32 - cell_prefixlen)
    start = int(area.network_address)
    cells = []
    for i in range(count):
        first = start + i * size
        last = first + size - 1
        holders = index.overlapping(first, last)
        covered = _covered(first, last, holders)
        block = IPv4Network((first, cell_prefixlen))
        is_next = next_block is not None and next_block.overlaps(block)
        if not holders:
            state = "next" if is_next and next_block is not None and next_block.prefixlen >= cell_prefixlen else "free"
        elif covered == size and len({h.kind for h in holders}) == 1:
            state = holders[0].kind
        else:
            state = "partial"
        cells.append(Cell(block, i % columns, i // columns, state, covered / size, tuple(holders), is_next))
    return cells


@dataclass(frozen=True)
class GridRow:
    """One row of a grid: its label (the cells' common address prefix) at `label_y`, and its cells."""

    label_y: int
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Frame:
    """A grid's size and its rows, for the SVG's viewBox and its ARIA grid (role=grid, row, gridcell)."""

    width: int
    height: int
    rows: list[GridRow]
    cell: int = GRID_CELL
    label_x: int = GRID_LEFT - 6


def frame(cells: Sequence[Cell]) -> Frame:
    columns = max(cell.column for cell in cells) + 1
    by_row: dict[int, list[Cell]] = {}
    for cell in cells:
        by_row.setdefault(cell.row, []).append(cell)
    rows = [GridRow(row[0].centre_y + 4, row[0].short_name, tuple(row)) for _, row in sorted(by_row.items())]
    return Frame(GRID_LEFT + columns * GRID_STRIDE, GRID_TOP + len(rows) * GRID_STRIDE + GRID_TOP, rows)


@dataclass(frozen=True)
class AllocationMap:
    pool: IPv4Network
    block_prefixlen: int
    overview: list[Cell]
    focus: IPv4Network
    detail: list[Cell]  # empty when the overview already shows single blocks
    selected: IPv4Network | None
    selected_holders: list[Holder]

    @property
    def overview_prefixlen(self) -> int:
        return self.overview[0].block.prefixlen

    @property
    def detail_prefixlen(self) -> int | None:
        return self.detail[0].block.prefixlen if self.detail else None

    @property
    def overview_frame(self) -> Frame:
        return frame(self.overview)

    @property
    def detail_frame(self) -> Frame | None:
        return frame(self.detail) if self.detail else None


def _within(text: str | None, parent: IPv4Network, prefixlen: int) -> IPv4Network | None:
    try:
        block = IPv4Network((text or "").strip(), strict=False)
    except ValueError:
        return None
    if block.prefixlen != prefixlen or not block.subnet_of(parent):
        return None
    return block


def summary_holders(cell: IPv4Network, totals: dict[str, tuple[int, int]]) -> list[Holder]:
    """A cell's held blocks as one holder per kind, from (how many blocks, how many addresses) of each kind:
    laid end to end from the cell's start, so the share held, the kinds and the counts come out as the
    blocks themselves would give them. For a cell with more than three blocks (fewer are named one by one),
    no reserved range and not the detail's."""
    holders, first = [], int(cell.network_address)
    for kind, (count, size) in sorted(totals.items()):
        holders.append(Holder(first, first + size - 1, kind, f"{count} {KIND_NAMES[kind]}s", str(cell), None, count))
        first += size
    return holders


def zoom(
    pool: IPv4Network, block_prefixlen: int, next_block: IPv4Network | None, focus: str | None
) -> tuple[int, IPv4Network, int]:
    """The overview's cell size, the overview cell shown in detail (`focus`, by default the one holding the
    next free block) and the detail's cell size."""
    overview_prefixlen = min(pool.prefixlen + GRID_LOG2, block_prefixlen)
    chosen = _within(focus, pool, overview_prefixlen)
    if chosen is None:
        around = next_block or pool
        chosen = IPv4Network((int(around.network_address), overview_prefixlen), strict=False)
    return overview_prefixlen, chosen, min(overview_prefixlen + GRID_LOG2, block_prefixlen)


def picked_block(
    selected: str | None, pool: IPv4Network, overview_prefixlen: int, detail_prefixlen: int
) -> IPv4Network | None:
    """The block whose holders are listed: a cell of the detail or of the overview."""
    return _within(selected, pool, detail_prefixlen) or _within(selected, pool, overview_prefixlen)


def allocation_map(
    pool: IPv4Network,
    block_prefixlen: int,
    holders: Sequence[Holder],
    *,
    next_block: IPv4Network | None,
    focus: str | None = None,
    selected: str | None = None,
) -> AllocationMap:
    """The two grids of a pool. `focus` names the overview cell to show in detail (default: the one
    holding the next free block); `selected` a block whose holders are listed."""
    index = HolderIndex(holders)
    overview_prefixlen, chosen, detail_prefixlen = zoom(pool, block_prefixlen, next_block, focus)
    overview = grid(pool, overview_prefixlen, index, next_block)
    detail = grid(chosen, detail_prefixlen, index, next_block) if detail_prefixlen > overview_prefixlen else []
    picked = picked_block(selected, pool, overview_prefixlen, detail_prefixlen)
    picked_holders = index.overlapping(int(picked.network_address), int(picked.broadcast_address)) if picked else []
    return AllocationMap(pool, block_prefixlen, overview, chosen, detail, picked, picked_holders)
