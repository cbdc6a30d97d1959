"""Statements prepared once per PostgreSQL connection (plumbing/server_prepared.py): sent as EXECUTEs with the
same answers as their text, prepared once (a rollback does not undo it), a value's type kept where PostgreSQL
could not tell it, one that cannot be prepared sent as text without harm to the transaction, shown as written
(`readable`), and left alone when turned off."""

import datetime
import logging

import pytest
from django.db import DatabaseError, connection, transaction

from plumbing import server_prepared
from plumbing.server_prepared import readable, sent_as

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares; SQLite is sent text"),
]


def answer(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sent_as(connection, sql, params), params)
        return cursor.fetchall()


def prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def test_a_statement_is_prepared_once_and_answers_as_its_text():
    sql = "SELECT %s::int + 1 AS n, %s AS word, '100%%' AS whole WHERE %s"
    params = [41, "forty", True]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        as_text = cursor.fetchall()

    sent = sent_as(connection, sql, params)
    assert sent.startswith("EXECUTE portal_") and sent.endswith("(%s, %s, %s)")
    name = sent.split()[1].split("(")[0]
    assert name in prepared_here()
    assert answer(sql, params) == as_text == [(42, "forty", "100%")]
    assert sent_as(connection, sql, [1, "one", False]) == sent  # prepared already: the EXECUTE alone
    assert answer(sql, [1, "one", False]) == []


def test_a_values_type_is_kept_where_postgresql_could_not_tell_it():
    """A number or a moment in the SELECT list (a UNION's column): declared with its type, not taken for text."""
    moment = datetime.datetime(2026, 12, 6, 1, 2, 3, tzinfo=datetime.UTC)
    sql = "SELECT %s AS first, %s AS at, %s AS flag UNION ALL SELECT 7::bigint, now(), false ORDER BY 1"
    assert answer(sql, [-1, moment, True])[0] == (-1, moment, True)


@pytest.mark.django_db(transaction=True)
def test_a_rollback_leaves_the_statement_prepared():
    sql = "SELECT count(*) FROM pg_class WHERE relname = %s"
    with pytest.raises(RuntimeError), transaction.atomic():
        assert answer(sql, ["pg_class"]) == [(1,)]
        raise RuntimeError("the transaction that prepared it fails")
    assert answer(sql, ["pg_type"]) == [(1,)]  # its EXECUTE alone: the statement is still there


def test_a_statement_postgresql_cannot_prepare_is_sent_as_text_and_the_transaction_goes_on(caplog):
    sql = "SELECT %s IS NULL"  # a value of no type it can tell (NULL as text is fine)
    with transaction.atomic(), caplog.at_level(logging.WARNING, logger="plumbing.server_prepared"):
        assert sent_as(connection, sql, [None]) == sql
        assert answer(sql, [None]) == [(True,)]  # as text; the transaction was not broken
        assert "would not prepare it" in caplog.text
    caplog.clear()
    assert sent_as(connection, sql, [None]) == sql
    assert not caplog.text  # not tried again


def test_readable_shows_each_prepared_statement_as_written():
    sql = "SELECT %s::text || 'it''s' WHERE %s"
    sent = sent_as(connection, sql, ["a;b", True])
    with connection.cursor() as cursor:
        bound = cursor.cursor.mogrify(f"SET LOCAL work_mem = '8MB'; {sent}; COMMIT", ["x'); (y", True])
    assert readable(bound) == "SET LOCAL work_mem = '8MB'; SELECT $1::text || 'it''s' WHERE $2; COMMIT"
    assert readable("EXECUTE portal_0123456789abcdef0123(1)") == "EXECUTE portal_0123456789abcdef0123(1)"


def test_nothing_is_prepared_when_turned_off(settings):
    settings.DATABASE_SERVER_PREPARE = False
    sql = "SELECT %s::int * 2"
    assert sent_as(connection, sql, [21]) == sql
    assert answer(sql, [21]) == [(42,)]
    assert not any(name == server_prepared._names.get(sql) for name in prepared_here())


def test_a_failed_transaction_is_left_to_fail_as_it_would():
    """Nothing is prepared on a transaction that failed already: the caller's statement meets Django's error."""
    sql = "SELECT %s::int - 1"
    with transaction.atomic():
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        assert sent_as(connection, sql, [1]) == sql
        with pytest.raises(DatabaseError):
            answer(sql, [1])
        transaction.set_rollback(True)
    assert answer(sql, [1]) == [(0,)]
