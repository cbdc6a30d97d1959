"""Statements that lock several operations lock them in the order of their ids, so two of them over the same
rows never wait for each other in a cycle.

Seen in bench/e2e.py: the web stamped a batch's operations `sent` in one UPDATE while a worker already ran a
slice of them and wrote their progress in another; each took its rows in the order its plan visited them, and
PostgreSQL broke the cycle by failing the worker's run (its operations waited ~20 s for recovery).

Here a helper connection holds the lower id, as a statement going in id order would; the statement under test
runs on a thread over both rows, planned as a scan of the table (where the higher id comes first: the lower
was updated last); then the helper asks for the higher id. Locked in the table's order, the statement held the
higher id and waited for the lower: a cycle, and PostgreSQL fails one side. Locked in id order, it waits for
the lower id holding nothing, and both go through."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from networks.models import Operation
from networks.services.operations_send import operations_stamp_sent
from plumbing.bulk import rows_update
from tests.factories import make_operation
from tests.support import database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
]

# A row's lock is waited for as its holder's transaction id, which pg_locks names with no database.
WAITING = """SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)
    WHERE NOT granted AND datname = current_database()"""


def both_go_through(team, statement) -> None:
    """Run `statement(low, high)` on a thread while another connection holds `low` and then asks for `high`."""
    low, high = make_operation(team, target="low"), make_operation(team, target="high")
    Operation.objects.filter(pk=low.pk).update(attempts=1)  # its new row version now lies after high's
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with connection.cursor() as cursor:  # the plan a table of a few rows gets: a scan, in its order
                cursor.execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
            statement(Operation.objects.get(pk=low.pk), Operation.objects.get(pk=high.pk))
        except BaseException as error:  # noqa: BLE001 (the test reports it)
            errors.append(error)
        finally:
            connection.close()

    with psycopg.connect(database_url()) as other:
        other.execute("SET deadlock_timeout = '2s'")  # a cycle fails the test in seconds
        other.execute("SELECT id FROM networks_operation WHERE id = %s FOR UPDATE", [low.pk])
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        for _ in range(500):  # until the statement waits for a row this transaction holds
            if other.execute(WAITING).fetchone()[0]:
                break
            time.sleep(0.01)
        other.execute("UPDATE networks_operation SET attempts = 7 WHERE id = %s", [high.pk])
        other.commit()
    thread.join(30)
    assert not thread.is_alive()
    assert not errors, errors


def test_a_batchs_sent_stamp_locks_its_operations_in_id_order(team):
    now = timezone.now()
    both_go_through(
        team, lambda low, high: operations_stamp_sent([(high, high.celery_task_id), (low, low.celery_task_id)], now)
    )
    assert list(Operation.objects.values_list("sent", flat=True)) == [now, now]


def test_rows_update_locks_its_rows_in_id_order(team):
    def progress(low, high):
        for row in (high, low):
            row.attempts = 3
        rows_update([high, low], ["attempts"])

    both_go_through(team, progress)
    assert set(Operation.objects.values_list("attempts", flat=True)) == {3}


def test_the_locks_leave_rows_that_refer_to_the_operations_free(team):
    """The lock taken in order is the UPDATE's own (FOR NO KEY UPDATE): a transaction that holds an operation's
    row as a new row referring to it does (its foreign key's check, FOR KEY SHARE) does not stop either."""
    held, beside = make_operation(team, target="held"), make_operation(team, target="beside")
    with psycopg.connect(database_url()) as other:
        other.execute("SELECT id FROM networks_operation WHERE id = %s FOR KEY SHARE", [held.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        try:
            held.attempts = 5
            rows_update([held], ["attempts"])
            operations_stamp_sent([(held, held.celery_task_id), (beside, beside.celery_task_id)], timezone.now())
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        other.rollback()
    assert Operation.objects.get(pk=held.pk).attempts == 5
    assert None not in Operation.objects.values_list("sent", flat=True)
