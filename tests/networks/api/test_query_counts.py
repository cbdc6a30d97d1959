"""The API's lists and reads make the same number of SQL queries for 5 networks as for 200 (or 1,000),
at the largest page size and with filters (tests/pages.py `populate` makes the rows), and no more
than they need.

A list that fits its first page reads no count (the row past the page tells there is none:
LastPageCounted in plumbing/api/pagination.py), and 5 networks fit a page where 200 do not: each such
answer is counted here with the count a page with more after it reads, and what must not grow with the
rows is the rest."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from portal import identity_cache
from portal.actors import Actor
from portal.services import api_token_create
from tests.factories import make_team
from tests.pages import populate
from tests.support import query_counts

pytestmark = pytest.mark.django_db


def api_counts(size: int, *, as_read: bool = False) -> dict:
    team = make_team()
    made = populate(team, size)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(actor=Actor.system('tests'), user=team.owner, name='counts')[1]}"
    )
    network, shared, operation = made["network"], made["shared"], made["operation"]
    paths = {
        "networks": "/api/v1/networks/",
        "networks, largest page": "/api/v1/networks/?page_size=1000",
        "networks, filtered": "/api/v1/networks/?status=active&shared=false&q=net&ordering=-created&page_size=200",
        "networks, shared with us": "/api/v1/networks/?shared=true&page_size=200",
        "network": f"/api/v1/networks/{network.pk}/",
        "shared network": f"/api/v1/networks/{shared.pk}/",
        "containers": "/api/v1/containers/?page_size=200",
        "containers, filtered": f"/api/v1/containers/?network={network.pk}&status=running",
        "operations": "/api/v1/operations/?page_size=200",
        "operations, unfinished": "/api/v1/operations/?status=queued&status=running",
        "operation": f"/api/v1/operations/{operation.pk}/",
        "clusters": "/api/v1/clusters/",
    }
    answers = {}
    counts = query_counts(
        {name: lambda path=path: answers.setdefault(path, client.get(path)) for name, path in paths.items()}
    )
    if as_read:
        return counts
    for name, path in paths.items():
        body = answers[path].json()
        only_page = isinstance(body, dict) and "next" in body and body["next"] is None and body["previous"] is None
        counts[name] = (counts[name][0], counts[name][1] + only_page)
    return counts


def test_the_lists_make_as_many_queries_for_200_networks_as_for_5():
    small = api_counts(5)
    large = api_counts(200)
    assert all(status == 200 for status, _ in small.values()), small
    assert large == small


def test_1000_networks_too():
    small = api_counts(5)
    assert api_counts(1000) == small


def test_a_network_is_read_in_as_few_queries_as_it_needs():
    """The token, the membership, then the rows: the networks (a list counts them first, unless they fit its
    first page), then their containers, shares and tags in one query on PostgreSQL, three elsewhere. (The
    first request also records when the token was used.)"""
    related = 1 if connection.vendor == "postgresql" else 3
    counts = api_counts(5, as_read=True)
    assert counts["network"] == counts["shared network"] == (200, 3 + related)
    assert counts["networks, largest page"] == counts["networks, shared with us"] == (200, 3 + related)


def test_with_the_identities_in_memory_a_network_is_two_queries():
    """With a shared cache (portal/identity_cache.py) the token and the membership come from memory."""
    identity_cache.forget()
    cache.clear()
    try:
        with override_settings(API_IDENTITY_CACHE=True):
            counts = api_counts(5, as_read=True)
    finally:
        identity_cache.forget()
        cache.clear()
    related = 1 if connection.vendor == "postgresql" else 3
    assert counts["network"] == counts["shared network"] == (200, 1 + related)
    assert counts["networks, largest page"] == counts["networks, shared with us"] == (200, 1 + related)


def batch_queries(size: int) -> int:
    """The SQL queries of one POST /api/v1/networks/batch/ of `size` networks on a new team's cluster."""
    team = make_team(api=True)
    api = team.api()
    api.get("clusters/")  # the token's first use is recorded once, not in the count
    items = [{"name": f"net{i}"} for i in range(size)]
    status, queries = query_counts({"batch": lambda: api.post("networks/batch/", items)})["batch"]
    assert status == 202
    return queries


def test_a_batch_costs_the_same_queries_whatever_its_size():
    """Once per batch: the token, the membership, the cluster and its nodes, two savepoints and their
    releases, the swarm's lock with the grant, which names are taken, the reserved ranges, the held blocks
    from the floor up (every block is then chosen in memory), one INSERT of all the networks and one of all
    their blocks, the cluster's floor persisted, one INSERT of all the operations and one of all the
    changes (one change per network, as a single create's), and the team's webhooks that want them
    (portal/changes.py: read once for all the changes). Nothing per network. SQLite takes at most 999
    parameters a statement, so there Django splits an INSERT of 50 networks, operations or changes."""
    small, large = batch_queries(5), batch_queries(50)
    split = 0 if connection.vendor == "postgresql" else 6
    assert 0 <= large - small <= split, (small, large)
    assert small == 18, small


def create_queries(headers: dict) -> list[str]:
    """The SQL of one POST /api/v1/networks/ on a new team's cluster (its commit and what follows it, the
    message's `sent` stamp, are not in a test's transaction)."""
    team = make_team(api=True)
    api = team.api()
    api.get("clusters/")  # the token's first use is recorded once, not in the count
    with CaptureQueriesContext(connection) as queries:
        answer = api.post("networks/", {"name": "counted", "cluster": team.cluster.pk}, headers=headers)
    assert answer.status_code == 202, answer.content
    return [query["sql"] for query in queries]


def test_a_create_is_made_in_as_few_queries_as_it_needs():
    """The token, the membership, the cluster, then in one round trip the reserved ranges, the team's webhooks
    (those that want the change) and the new rows' keys, the swarm's lock with the grant and, in the same round
    trip, the name and the held blocks from the floor up, then the network's and its block's rows, the floor moved, the operation and the
    change's audit entry sent together (plumbing/writes.py), in the service's transaction (here a savepoint of
    the test's). With an Idempotency-Key, its stored answer looked up, and written with the rows, and the whole
    is one transaction with no savepoint inside. SQLite: the name apart from the held blocks, each row written alone,
    no keys taken first."""
    plain = create_queries({})
    keyed = create_queries({"Idempotency-Key": "counted-once"})
    assert len(plain) == (8 if connection.vendor == "postgresql" else 15), plain
    if connection.vendor == "postgresql":
        ahead = next(sql for sql in plain if "nextval(" in sql)
        assert [_verb_and_table(sql) for sql in ahead.split("; ")][:2] == [
            "SELECT networks_reservedrange",
            "SELECT webhooks_webhookendpoint",
        ], ahead  # then the keys
    together = connection.vendor == "postgresql"
    assert len(keyed) == len(plain) + (1 if together else 2), keyed  # the lookup (its INSERT goes with the rows)
    assert sum("SAVEPOINT" in sql for sql in keyed) == 2, keyed  # the transaction's own (the test's savepoint)


def under_the_lock(queries: list[str]) -> list[str]:
    """What each round trip from the swarm's lock (its own first) to the end of the transaction does: each
    statement's verb and first table (statements sent together joined by " + ")."""
    locked = next(i for i, sql in enumerate(queries) if "FOR UPDATE" in sql or "FOR NO KEY UPDATE" in sql)
    done = []
    for sent in queries[locked:]:
        if sent.startswith(("SAVEPOINT", "RELEASE")):
            continue
        statements = re.split(r"; (?=\(?(?:INSERT|UPDATE|SELECT|DELETE))", sent)
        done.append(" + ".join(_verb_and_table(sql) for sql in statements))
    return done


def _verb_and_table(sql: str) -> str:
    table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
    return f"{sql.lstrip('(').split()[0]} {table.group(1) if table else '?'}"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no row lock: it takes one writer at a time")
def test_a_create_holds_the_swarms_lock_for_what_depends_on_the_block_only():
    """Every create on the swarm waits while one holds its lock: the idempotency key, the reserved ranges, the
    new rows' keys and the team's webhook endpoints are read before it; one statement sent with the lock, after
    it, reads the name and the held blocks, and the rows are written in one round trip (the floor moved past the
    block and the Idempotency-Key's answer among them). Then the commit."""
    keyed = create_queries({"Idempotency-Key": "locked-briefly"})
    assert under_the_lock(keyed) == [
        "SELECT networks_clustergrant + SELECT networks_subnetallocation",  # the lock, then the name and the blocks
        "INSERT networks_network + INSERT networks_subnetallocation + UPDATE networks_cluster"
        " + INSERT networks_operation + INSERT portal_auditentry + INSERT portal_idempotencyrecord",
    ], keyed
