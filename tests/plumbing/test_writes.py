"""Writes: rows inserted with the keys reserved for them, and other statements, sent to PostgreSQL in one round
trip; the rows stored as bulk_create stores them (text with quotes and semicolons, JSON, nulls, `auto_now`
stamps). On SQLite each is written at once."""

from __future__ import annotations

from unittest import mock

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from psycopg import _queries as psycopg_queries

from networks.models import Operation, ReservedRange
from networks.services.allocations import subnets_reserved, subnets_reserved_of, subnets_reserved_read
from networks.services.operations import operation_new
from plumbing.server_prepared import readable
from plumbing.writes import Writes
from tests.factories import make_operation

pytestmark = pytest.mark.django_db

TOGETHER = connection.vendor == "postgresql"


def new_operation(team, target: str) -> Operation:
    params = {"note": 'it\'s "quoted"; INSERT INTO x VALUES (1); -- not a statement', "none": None}
    operation = operation_new(
        tenant=team.tenant, cluster=team.cluster, kind=Operation.Kind.NETWORK_CREATE, target=target, params=params
    )
    operation.progress = [{"at": "2026-01-01T10:00:00+00:00", "message": "Queued: waiting for a worker."}]
    return operation


def stored(operation: Operation) -> dict:
    row = model_to_dict(Operation.objects.get(pk=operation.pk))
    return {name: value for name, value in row.items() if name not in ("id", "celery_task_id")}


def test_rows_and_an_update_go_in_one_round_trip_and_are_stored_as_bulk_create_stores_them(team):
    other = make_operation(team, target="other")
    with CaptureQueriesContext(connection) as reserving:
        writes = Writes()
        writes.reserve(Operation, Operation)
    assert len(reserving) == (1 if TOGETHER else 0)
    gathered, alike = [new_operation(team, "a"), new_operation(team, "b")], [new_operation(team, "c")]
    with CaptureQueriesContext(connection) as queries:
        writes.insert(gathered)
        if TOGETHER:
            assert all(operation.pk for operation in gathered) and not queries  # keys known, nothing sent yet
        writes.add("UPDATE networks_operation SET target = %s WHERE id = %s", ["renamed", other.pk])
        writes.send()
    assert len(queries) == (1 if TOGETHER else 2)
    Operation.objects.bulk_create(alike)
    assert stored(gathered[0]) | {"target": "c"} == stored(alike[0]), "as bulk_create stores it"
    assert gathered[0].created is not None and not gathered[0]._state.adding
    assert Operation.objects.get(pk=other.pk).target == "renamed"
    writes.send()  # nothing left: no statement
    assert len(queries) == (1 if TOGETHER else 2)


def test_rows_with_no_key_reserved_get_the_tables_own_and_callbacks_wait_for_the_send(team):
    writes = Writes()
    sent = []
    writes.insert([new_operation(team, "a"), new_operation(team, "b")])
    writes.then(lambda: sent.append(Operation.objects.filter(target__in=["a", "b"]).count()))
    assert sent == ([] if TOGETHER else [2])
    writes.send()
    assert sent == [2]


@pytest.mark.skipif(not TOGETHER, reason="SQLite writes each row at once with its own key")
def test_keys_reserved_for_some_rows_only_are_refused(team):
    writes = Writes()
    writes.reserve(Operation)
    with pytest.raises(ValueError, match="keys reserved for some of these Operation rows only"):
        writes.insert([new_operation(team, "a"), new_operation(team, "b")])


@pytest.mark.skipif(not TOGETHER, reason="SQLite writes each row at once")
def test_a_batch_past_psycopgs_cache_is_bound_statement_by_statement(team):
    """psycopg keeps the parsing of a statement's placeholders only for one under 4 KB and 50 parameters: the
    batch is bound statement by statement, so a create's is not parsed again on every send."""
    writes = Writes()
    writes.reserve(*[Operation] * 4)
    rows = [new_operation(team, f"row-{number}") for number in range(4)]
    for row in rows:
        writes.insert([row])  # a statement each: each cached, all of them past the limits together
    assert len(rows) * len(Operation._meta.concrete_fields) > psycopg_queries.MAX_CACHED_STATEMENT_PARAMS
    with mock.patch.object(
        psycopg_queries, "_query2pg_client_nocache", wraps=psycopg_queries._query2pg_client_nocache
    ) as parsed:
        writes.send()
    assert not parsed.called, "parsed again, uncached"
    assert [Operation.objects.get(pk=row.pk).params for row in rows] == [row.params for row in rows]


def test_a_read_sent_with_the_keys_is_filled_as_it_alone_would_be(team):
    """`reserve(reads=)`: the read first, then the keys, in one round trip (PostgreSQL); its rows as the read
    sent alone finds them. Elsewhere the read is sent alone and no key is taken."""
    ReservedRange.objects.create(cluster=team.cluster, cidr="10.9.0.0/16", description="lab")
    alone = subnets_reserved(cluster_id=team.cluster.pk)
    writes = Writes()
    read = subnets_reserved_read(cluster_id=team.cluster.pk)
    with CaptureQueriesContext(connection) as queries:
        writes.reserve(Operation, reads=[read])
    assert subnets_reserved_of(read) == alone and "lab" in [r.description for r in alone]
    assert len(queries) == 1
    assert ("nextval(" in queries[0]["sql"]) is TOGETHER and bool(writes.keys) is TOGETHER


@pytest.mark.skipif(not TOGETHER, reason="SQLite writes each row at once, by bulk_create")
def test_a_rows_insert_is_compiled_once_per_model_and_stored_as_bulk_create_stores_it(team):
    """One row of plain values: the SQL Django compiled for the model's first such row, the values prepared as its
    compiler prepares them (auto_now stamped, JSON dumped); stored as bulk_create stores it."""
    writes = Writes()
    writes.reserve(Operation, Operation)
    first, second = new_operation(team, "one"), new_operation(team, "two")
    writes.insert([first])
    compiler = connection.ops.compiler("SQLInsertCompiler")
    with mock.patch.object(compiler, "as_sql", autospec=True, side_effect=compiler.as_sql) as compiled:
        writes.insert([second])
    writes.send()
    assert not compiled.called, "compiled again"
    alike = new_operation(team, "alike")
    Operation.objects.bulk_create([alike])
    assert stored(second) | {"target": "alike"} == stored(alike), "as bulk_create stores it"
    assert second.created is not None and Operation.objects.get(pk=second.pk).created == second.created


def executed(sqls: list[str]):
    """A wrapper of `connection` that notes each SQL it sends (commits and rollbacks are not statements)."""

    def note(execute, sql, params, many, context):
        sqls.append(readable(sql))  # a prepared statement's EXECUTE as the statement
        return execute(sql, params, many, context)

    return connection.execute_wrapper(note)


@pytest.mark.skipif(not TOGETHER, reason="SQLite writes each row at once")
@pytest.mark.django_db(transaction=True)
def test_the_commit_goes_with_the_last_statements_of_the_outermost_transaction(team):
    """`send(commit=True)` ends the outermost transaction in the statements' round trip: the connection is idle
    after it, Django's commit sends nothing more, and the on-commit callbacks run once, at the block's end."""
    sqls: list[str] = []
    committed: list[bool] = []
    with executed(sqls), transaction.atomic():
        writes = Writes()
        writes.reserve(Operation)
        writes.insert([operation := new_operation(team, "committed")])
        transaction.on_commit(lambda: committed.append(True))
        writes.send(commit=True)
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert not committed
    assert sqls[-1].endswith("; COMMIT") and committed == [True]
    assert Operation.objects.filter(pk=operation.pk).exists()


@pytest.mark.skipif(not TOGETHER, reason="SQLite writes each row at once")
@pytest.mark.django_db(transaction=True)
def test_no_commit_is_sent_inside_a_callers_transaction_or_before_a_callback(team):
    """In a block nested in another transaction, a COMMIT would end the caller's too; with a callback waiting to
    run in the transaction (an outbox), it would run after it: in both cases the statements go alone."""
    sqls: list[str] = []
    with executed(sqls), pytest.raises(RuntimeError), transaction.atomic():
        with transaction.atomic():
            writes = Writes()
            writes.insert([new_operation(team, "nested")])
            writes.send(commit=True)
        raise RuntimeError("the caller's transaction fails after")
    assert not Operation.objects.filter(target="nested").exists(), "the caller's rollback undid it"
    with executed(sqls), transaction.atomic():
        writes = Writes()
        writes.insert([new_operation(team, "waited")])
        writes.then(lambda: Operation.objects.filter(target="waited").update(target="waited-on"))
        writes.send(commit=True)
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert not any("COMMIT" in sql for sql in sqls)
    assert Operation.objects.filter(target="waited-on").exists()


@pytest.mark.skipif(not TOGETHER, reason="SQLite writes each row at once")
@pytest.mark.django_db(transaction=True)
def test_a_statement_that_fails_skips_the_commit_and_the_transaction_is_rolled_back(team):
    first = make_operation(team, target="first")
    with pytest.raises(IntegrityError), transaction.atomic():
        writes = Writes()
        writes.insert([new_operation(team, "lost")])
        writes.add("INSERT INTO networks_operation (id) SELECT id FROM networks_operation WHERE id = %s", [first.pk])
        writes.send(commit=True)
    assert not Operation.objects.filter(target="lost").exists()
    assert Operation.objects.filter(pk=first.pk).exists(), "the connection goes on"
