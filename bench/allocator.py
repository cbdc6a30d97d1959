"""How long one subnet allocation takes as a cluster's pool fills up, against a set-difference baseline.

Levels: 0, 10,000 and 60,000 used /24s of 10.0.0.0/8 (ServiceNet reserved). At each level:
- portal: one allocation through the real path (transaction, per-cluster lock, floor, index
  lookups, insert; Consul left out), median of several, each released again afterwards;
- baseline: the same choice made the way general IPAM tools compute "available prefixes":
  read every used block, netaddr IPSet(pool) - IPSet(used + reserved), first /24 of the rest.
And the free blocks a team is offered (`GET .../available-prefixes/?prefixlen=26&limit=10`): the
portal's walk from the floor (networks/selectors/allocations.py) against NetBox's way, the same
IPSet difference cut into /26s; both must list the same ten.

Run: `make bench` (or `.venv/bin/python bench/allocator.py`; set DATABASE_URL for PostgreSQL).
"""

import ipaddress
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

import netaddr  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from networks import ipam  # noqa: E402
from networks.models import Cluster, ClusterGrant, ReservedRange, SubnetAllocation  # noqa: E402
from networks.selectors.allocations import available_prefixes  # noqa: E402
from networks.services.allocations import subnet_allocate, subnet_release  # noqa: E402
from networks.services.grants import grant_check_room  # noqa: E402
from portal.models import Tenant  # noqa: E402

LEVELS = (0, 10_000, 60_000)
PORTAL_RUNS = 25
BASELINE_RUNS = 3
POOL = ipaddress.IPv4Network("10.0.0.0/8")
SERVICENET = ipam.SERVICENET


def fill(cluster: Cluster, upto: int) -> None:
    """Hold the first `upto` /24s of the pool that are not ServiceNet, as a dense first-fit fill would."""
    have = SubnetAllocation.objects.filter(cluster=cluster).count()
    rows, index = [], 0
    for block in POOL.subnets(new_prefix=24):
        if len(rows) + have >= upto:
            break
        if block.overlaps(SERVICENET):
            continue
        index += 1
        if index <= have:
            continue
        first, last = ipam.to_range(block)
        rows.append(SubnetAllocation(cluster=cluster, cidr=str(block), first=first, last=last, owner=f"bench {index}"))
    SubnetAllocation.objects.bulk_create(rows, batch_size=5000)


def time_portal(cluster: Cluster) -> tuple[float, str]:
    # Settle the floor as the running portal would have it after the fill (not timed).
    warm = subnet_allocate(cluster=cluster, owner="bench warm-up")
    subnet_release(allocation=warm)
    samples, cidr = [], ""
    for _ in range(PORTAL_RUNS):
        start = time.perf_counter()
        allocation = subnet_allocate(cluster=cluster, owner="bench")
        samples.append(time.perf_counter() - start)
        cidr = allocation.cidr
        subnet_release(allocation=allocation)
    return statistics.median(samples) * 1000, cidr


def time_teams(cluster: Cluster, tenants: list[Tenant]) -> float:
    """One allocation as a team's create makes it on a shared swarm: its grant's limits checked under
    the swarm's lock, then the block taken; the teams take turns. Median in ms."""
    samples = []
    for run in range(PORTAL_RUNS):
        tenant = tenants[run % len(tenants)]
        start = time.perf_counter()
        with transaction.atomic():
            grant_check_room(cluster=cluster, tenant=tenant, networks=1)
            allocation = subnet_allocate(cluster=cluster, owner=f"bench {tenant.slug}", tenant=tenant)
        samples.append(time.perf_counter() - start)
        subnet_release(allocation=allocation)
    return statistics.median(samples) * 1000


def time_baseline(cluster: Cluster) -> tuple[float, str]:
    samples, cidr = [], ""
    for _ in range(BASELINE_RUNS):
        start = time.perf_counter()
        used = list(SubnetAllocation.objects.filter(cluster=cluster).values_list("cidr", flat=True))
        reserved = [r.cidr for r in cluster.reserved_ranges.all()]
        available = netaddr.IPSet([str(POOL)]) - netaddr.IPSet(used + reserved)
        choice = None
        for free in available.iter_cidrs():
            if free.prefixlen <= 24:
                choice = next(free.subnet(24))
                break
        samples.append(time.perf_counter() - start)
        cidr = str(choice)
    return statistics.median(samples) * 1000, cidr


AVAILABLE_PREFIXLEN, AVAILABLE_LIMIT = 26, 10


def time_available(cluster: Cluster) -> tuple[float, list[str]]:
    """The portal's list of free blocks, median in ms."""
    samples, listed = [], []
    for _ in range(PORTAL_RUNS):
        cluster = Cluster.objects.get(pk=cluster.pk)  # as a request reads it
        start = time.perf_counter()
        listed = [
            str(b) for b in available_prefixes(cluster=cluster, prefixlen=AVAILABLE_PREFIXLEN, limit=AVAILABLE_LIMIT)
        ]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, listed


def time_available_baseline(cluster: Cluster) -> tuple[float, list[str]]:
    """NetBox's available-prefixes: the IPSet difference of the pool and everything used, cut to the size."""
    samples, listed = [], []
    for _ in range(BASELINE_RUNS):
        start = time.perf_counter()
        used = list(SubnetAllocation.objects.filter(cluster=cluster).values_list("cidr", flat=True))
        reserved = [r.cidr for r in cluster.reserved_ranges.all()]
        available = netaddr.IPSet([str(POOL)]) - netaddr.IPSet(used + reserved)
        listed = []
        for free in available.iter_cidrs():
            if free.prefixlen <= AVAILABLE_PREFIXLEN:
                for piece in free.subnet(AVAILABLE_PREFIXLEN):
                    listed.append(str(piece))
                    if len(listed) == AVAILABLE_LIMIT:
                        break
            if len(listed) == AVAILABLE_LIMIT:
                break
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, listed


def main() -> None:
    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    Cluster.objects.filter(name="bench").delete()
    cluster = Cluster.objects.create(
        name="bench", docker_endpoint="tcp://192.0.2.1:2375", consul_address="http://192.0.2.1:8500"
    )
    ClusterGrant.objects.create(cluster=cluster, tenant=tenant)
    ReservedRange.objects.create(
        cluster=cluster, cidr=str(ipam.SERVICENET), description="ServiceNet", is_servicenet=True
    )
    print(f"database: {connection.vendor}; portal median of {PORTAL_RUNS}, baseline median of {BASELINE_RUNS}")
    results = {}
    try:
        for level in LEVELS:
            fill(cluster, level)
            portal_ms, portal_cidr = time_portal(cluster)
            baseline_ms, baseline_cidr = time_baseline(cluster)
            assert portal_cidr == baseline_cidr, (portal_cidr, baseline_cidr)
            results[level] = (portal_ms, baseline_ms)
            print(
                f"allocator at {level} used: portal {portal_ms:.2f} ms, baseline {baseline_ms:.2f} ms, "
                f"speedup {baseline_ms / portal_ms:.1f}x (both chose {portal_cidr})"
            )
            listing_ms, listed = time_available(cluster)
            netbox_ms, netbox_listed = time_available_baseline(cluster)
            assert listed == netbox_listed, (listed, netbox_listed)
            print(
                f"available prefixes (/{AVAILABLE_PREFIXLEN}, {AVAILABLE_LIMIT}) at {level} used: portal "
                f"{listing_ms:.2f} ms, NetBox's IPSet difference {netbox_ms:.2f} ms, speedup "
                f"{netbox_ms / listing_ms:.1f}x (both listed {listed[0]} to {listed[-1]})"
            )
        # Several teams on one swarm share the pool and the lock: one team, then two taking turns.
        second, _ = Tenant.objects.get_or_create(slug="bench-second", defaults={"name": "Bench second"})
        ClusterGrant.objects.get_or_create(cluster=cluster, tenant=second)
        one_team = time_teams(cluster, [tenant])
        two_teams = time_teams(cluster, [tenant, second])
        print(
            f"shared swarm at {LEVELS[-1]} used: one team {one_team:.2f} ms, two teams taking turns "
            f"{two_teams:.2f} ms per allocation (limits checked), ratio {two_teams / one_team:.2f}x"
        )
        second.delete()
    finally:
        cluster.delete()
        tenant.delete()
    top = LEVELS[-1]
    portal_ms, baseline_ms = results[top]
    print(f"portal at {top} used vs at 0 used: {portal_ms / results[0][0]:.2f}x")
    print(
        f"allocator at {top} used: portal {portal_ms:.2f} ms, baseline {baseline_ms:.2f} ms, speedup {baseline_ms / portal_ms:.1f}x"
    )


if __name__ == "__main__":
    main()
