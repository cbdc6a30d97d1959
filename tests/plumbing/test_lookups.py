"""`__any_of`: the same rows as `__in`, with the list sent as one array on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from networks.models import Network
from tests.factories import make_network, make_team


def test_any_of_finds_what_in_finds_on_fields_and_relations(team):
    networks = [make_network(team, f"net-{i}") for i in range(5)]
    wanted = [networks[0].pk, networks[3].pk, 10**9]
    assert set(Network.objects.filter(pk__any_of=wanted)) == set(Network.objects.filter(pk__in=wanted))
    shared = Network.objects.filter(cluster__any_of=[team.cluster.pk]).count()
    assert shared == Network.objects.filter(cluster__in=[team.cluster.pk]).count() == 5
    assert not Network.objects.filter(pk__any_of=[]).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL test: run with DATABASE_URL=postgres://... (.ci/run does)"
)
def test_on_postgresql_the_list_is_one_parameter(team):
    networks = [make_network(team, f"net-{i}") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        list(Network.objects.filter(pk__any_of=[n.pk for n in networks]))
    sql = queries.captured_queries[0]["sql"]
    assert "= ANY(" in sql and sql.count(str(networks[2].pk)) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL test: run with DATABASE_URL=postgres://... (.ci/run does)"
)
def test_on_postgresql_ids_go_as_the_text_of_an_array_and_anything_else_as_a_list(team):
    networks = [make_network(team, f"net-{i}") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        by_id = list(Network.objects.filter(cluster__any_of=[team.cluster.pk, 10**12]))
        by_name = list(Network.objects.filter(name__any_of=["net-0", "net-2", "it's"]))
    assert sorted(n.pk for n in by_id) == sorted(n.pk for n in networks)
    assert sorted(n.name for n in by_name) == ["net-0", "net-2"]
    assert "::bigint[])" in queries.captured_queries[0]["sql"]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="elsewhere than PostgreSQL: run on SQLite")
def test_elsewhere_the_list_is_an_in(team):
    networks = [make_network(team, f"net-{i}") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        list(Network.objects.filter(pk__any_of=[n.pk for n in networks]))
    assert " IN (" in queries.captured_queries[0]["sql"]


def test_a_subquery_finds_what_in_finds_and_on_postgresql_is_one_array(team):
    """`usable_by` ORs a team's own networks with those shared with it: on PostgreSQL the shared ids are
    `= ANY(ARRAY(subquery))`, which PostgreSQL combines with the team's index (with `IN (subquery)` in an OR
    it reads every network of every team), elsewhere `IN (subquery)`; the same rows either way."""
    from networks.models import NetworkShare

    other = make_team("Other")
    networks = [make_network(other, f"net-{i}") for i in range(3)]
    NetworkShare.objects.create(network=networks[1], tenant=team.tenant)
    shared = NetworkShare.objects.filter(tenant=team.tenant).values("network_id")
    with CaptureQueriesContext(connection) as queries:
        found = list(Network.objects.filter(pk__any_of=shared))
    assert found == list(Network.objects.filter(pk__in=shared)) == [networks[1]]
    sql = queries.captured_queries[0]["sql"]
    assert ("= ANY(ARRAY(SELECT" in sql) if connection.vendor == "postgresql" else (" IN (SELECT" in sql)
    assert sql.count("ORDER BY") == 1  # the network's own; the share's (three joins) is left out, as `In` leaves it
    assert set(Network.objects.usable_by(team.tenant)) == {networks[1]}
