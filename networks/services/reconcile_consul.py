"""Reconcile's Consul pass: Consul's keys brought back to what the database says (reconcile.py runs it).

Rewrites missing and stale keys and removes keys of nothing, as cheap on ten thousand networks (twenty
thousand keys) as on a thousand while nothing moved: each pass leaves its starting point in the cache.
"""

from __future__ import annotations

import json
import time

from django.core.cache import cache
from django.db.models import Count, Max, Q

from networks.engine import consul as consul_engine
from networks.models import Cluster, Network, SubnetAllocation

from .allocations import subnet_reserve_in_consul
from .state import network_document, network_key, network_key_of, state_network_write, subnet_key

# The Consul pass is skipped while neither side has changed since a pass found them in agreement, but
# never for longer than this (a team's renamed slug, say, changes what its keys should read, not its rows).
CONSUL_FULL_PASS_SECONDS = 3600


def _consul_mark(cluster: Cluster) -> dict:
    """What the Consul pass compares, summed up in three cheap reads: Consul's index of its whole store (it
    moves on any write or delete, under the cluster's prefix or not: at worst a pass too many, never one too
    few), and how many rows stand behind its keys and their latest change."""
    # A network row changed or made moves the latest change (an index probe); rows are deleted only with
    # their blocks (a cascade), which the blocks' count shows.
    latest = Network.objects.filter(cluster=cluster).aggregate(latest=Max("updated"))["latest"]
    blocks = SubnetAllocation.objects.filter(cluster=cluster).aggregate(count=Count("pk"), last=Max("pk"))
    return {
        "index": consul_engine.kv_index(cluster.consul, cluster.consul_prefix),  # the prefix's own name: no key
        "latest": latest,
        "blocks": blocks["count"],
        "last_block": blocks["last"],
    }


def reconcile_consul(cluster: Cluster) -> list[str]:
    """Rewrite missing and stale keys, remove keys of nothing: as cheap on ten thousand networks (twenty
    thousand keys) as on a thousand. Each pass leaves its starting point (`_consul_mark`) in the cache; the
    next one, when nothing has moved since, reads nothing more, and otherwise compares every key's presence
    but only the documents of rows changed, and of keys written, since that point. At least once every
    CONSUL_FULL_PASS_SECONDS it compares every document (a team's renamed slug changes what its keys
    should read without changing their rows)."""
    mark, key, now = _consul_mark(cluster), f"reconcile:consul:{cluster.pk}", time.time()
    last = cache.get(key)
    if last is not None and last["mark"] == mark:
        return []
    since = last["mark"] if last is not None and now - last["full_at"] < CONSUL_FULL_PASS_SECONDS else None
    changes = _consul_compare(cluster, since)
    cache.set(key, {"mark": mark, "full_at": now if since is None else last["full_at"]}, timeout=None)
    return changes


def _consul_compare(cluster: Cluster, since: dict | None) -> list[str]:
    changes = []
    address = cluster.consul
    tree = consul_engine.kv_get_tree_changes(address, f"{cluster.consul_prefix}/")
    active = Network.objects.filter(cluster=cluster, status=Network.Status.ACTIVE)
    wanted_network_keys = {network_key_of(cluster, pk): pk for pk in active.values_list("pk", flat=True)}
    compared = active
    if since is not None:
        written = {pk for key, pk in wanted_network_keys.items() if key in tree and tree[key][1] > since["index"]}
        absent = {pk for key, pk in wanted_network_keys.items() if key not in tree}
        changed = Q(updated__gte=since["latest"]) if since["latest"] is not None else Q()
        compared = active.filter(Q(pk__in=written | absent) | changed)
    for network in compared.select_related("tenant"):
        network.cluster = cluster  # one row for all: its Consul address and prefix
        current, document = tree.get(network_key(network), (None, 0))[0], network_document(network)
        # The key is written as sorted JSON: the same text is the same document, without parsing it.
        if current is None or (current != json.dumps(document, sort_keys=True) and json.loads(current) != document):
            state_network_write(network=network)
            changes.append(
                f'Consul key for network "{network.name}" was {"missing" if current is None else "stale"}: rewritten.'
            )
    blocks = SubnetAllocation.objects.filter(cluster=cluster)
    cidrs = {subnet_key(cluster, cidr): cidr for cidr in blocks.values_list("cidr", flat=True)}
    missing = [cidr for key, cidr in cidrs.items() if key not in tree]
    for allocation in blocks.filter(cidr__in=missing).select_related("cluster", "network__tenant") if missing else []:
        subnet_reserve_in_consul(allocation=allocation)
        changes.append(f"Consul reservation for {allocation.cidr} was missing: rewritten.")
    for key in tree:
        kind = key[len(cluster.consul_prefix) + 1 :].split("/", 1)[0]
        if (kind == "networks" and key not in wanted_network_keys) or (kind == "subnets" and key not in cidrs):
            consul_engine.kv_delete(address, key)
            changes.append(f"Stale Consul key {key} removed.")
    return changes
