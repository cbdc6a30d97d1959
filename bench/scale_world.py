"""The swarm of bench/scale.py filled around the viewed team: 100 other teams granted it, and their networks
as rows (bulk inserts: each network's held block, its Consul keys as a create writes them, and HISTORY finished
operations), the allocator's floor past them all and the planner's statistics up to date.
Import after django.setup()."""

from __future__ import annotations

import base64
import json

from django.db import connection

from networks.engine import consul as consul_engine
from networks.models import Cluster, ClusterGrant, Network, Operation, SubnetAllocation
from networks.services.state import network_document, network_key, subnet_key
from portal.models import Tenant

TEAMS = 100
HISTORY = 10  # finished operations per filled network: its create, and the swarm's reconciles since
CONSUL_TXN = 64  # operations per Consul transaction, Consul's own limit


def make_teams(cluster: Cluster) -> list[Tenant]:
    teams = Tenant.objects.bulk_create(
        Tenant(name=f"Scale team {i:03}", slug=f"scale-team-{i:03}") for i in range(TEAMS)
    )
    ClusterGrant.objects.bulk_create(ClusterGrant(cluster=cluster, tenant=team) for team in teams)
    return teams


def fill(cluster: Cluster, teams: list[Tenant], total: int) -> None:
    """Rows until the swarm holds `total` live networks: the next free blocks in the allocator's order,
    each held for its network, the Consul keys a create writes, and the allocator's floor past them all
    (as the creates would have left it: every block below it is taken)."""
    have = Network.objects.filter(cluster=cluster).live().count()
    cluster.refresh_from_db()
    held = set(SubnetAllocation.objects.filter(cluster=cluster).values_list("cidr", flat=True))
    reserved = [r.network for r in cluster.reserved_ranges.all()]
    blocks = []
    for block in cluster.pool.subnets(new_prefix=cluster.default_prefixlen):
        if len(blocks) == total - have:
            break
        if str(block) not in held and not any(block.overlaps(r) for r in reserved):
            blocks.append(block)
    networks = Network.objects.bulk_create(
        (
            Network(
                tenant=teams[(have + i) % TEAMS],
                cluster=cluster,
                name=f"fill-{have + i:05}",
                subnet=str(block),
                gateway=str(block.network_address + 1),
                status=Network.Status.ACTIVE,
                labels={"app": f"svc{i % 5}"},
            )
            for i, block in enumerate(blocks)
        ),
        batch_size=1000,
    )
    allocations = SubnetAllocation.objects.bulk_create(
        (
            SubnetAllocation(
                cluster=cluster,
                network=network,
                cidr=network.subnet,
                first=int(network.subnet_network.network_address),
                last=int(network.subnet_network.broadcast_address),
                owner=f'network "{network.name}"',
            )
            for network in networks
        ),
        batch_size=1000,
    )
    Cluster.objects.filter(pk=cluster.pk).update(allocation_floor=int(blocks[-1].broadcast_address) + 1)
    Operation.objects.bulk_create(history(cluster, networks), batch_size=2000)
    if connection.vendor == "postgresql":  # the planner's statistics, as autovacuum keeps them after a fill
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    keys = []
    for network, allocation in zip(networks, allocations, strict=True):
        keys.append((network_key(network), network_document(network)))
        keys.append(
            (
                subnet_key(cluster, allocation.cidr),
                {
                    "allocation": allocation.pk,
                    "cidr": allocation.cidr,
                    "owner": allocation.owner,
                    "network": network.pk,
                    "tenant": network.tenant.slug,
                },
            )
        )
    consul = consul_engine.client(cluster.consul)
    for start in range(0, len(keys), CONSUL_TXN):
        consul.txn.put(
            [
                {
                    "KV": {
                        "Verb": "set",
                        "Key": key,
                        "Value": base64.b64encode(json.dumps(value, sort_keys=True).encode()).decode(),
                    }
                }
                for key, value in keys[start : start + CONSUL_TXN]
            ]
        )


def history(cluster: Cluster, networks: list[Network]):
    """What a portal holding these networks has finished: each one's create, and as many of the swarm's
    reconciles again (HISTORY operations a network), so that what reads the unfinished operations (every
    create's answer, the outbox, recovery) is measured beside a history ten times longer at 10,000."""
    progress = [{"at": "2026-01-01T10:00:00+00:00", "message": "Done."}]
    for network in networks:
        yield Operation(
            tenant=network.tenant,
            cluster=cluster,
            network=network,
            kind=Operation.Kind.NETWORK_CREATE,
            target=network.name,
            status=Operation.Status.SUCCEEDED,
            progress=progress,
        )
        for _ in range(HISTORY - 1):
            yield Operation(
                tenant=network.tenant,
                cluster=cluster,
                kind=Operation.Kind.CLUSTER_RECONCILE,
                target=cluster.name,
                status=Operation.Status.SUCCEEDED,
                progress=progress,
            )
