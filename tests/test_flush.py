"""The flush that empties the database after a transactional test outlasts a deadlock with another
connection (the session's worker, in the suite): PostgreSQL aborts the flush to break the cycle, and the
flush runs again once the other transaction has ended (tests/fixtures/flush.py).

The other side here is a helper connection that holds the last table the TRUNCATE locks, waits until the
TRUNCATE waits for it, then asks for the first table, which the TRUNCATE holds: a real cycle."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from portal.models import Tenant
from tests.fixtures.flush import is_deadlock, outlasting_deadlocks
from tests.support import database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the deadlock is PostgreSQL's"),
]


WAITING = """SELECT count(*) FROM pg_locks
    WHERE NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


def flush() -> None:
    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)


class DeadlocksWithTheFlush(threading.Thread):
    """A connection whose transaction holds the TRUNCATE's last table, then asks for its first."""

    def __init__(self):
        super().__init__(daemon=True)
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        self.first, self.last = (connection.ops.quote_name(name) for name in (tables[0], tables[-1]))
        self.holding = threading.Event()

    def run(self) -> None:
        with psycopg.connect(database_url()) as other:
            other.execute("SET deadlock_timeout = '60s'")  # the flush's side finds the cycle first
            other.execute(f"LOCK TABLE {self.last} IN ACCESS SHARE MODE")
            self.holding.set()
            for _ in range(3000):  # until the TRUNCATE waits for the table this transaction holds
                if other.execute(WAITING).fetchone()[0]:
                    break
                time.sleep(0.01)
            other.execute(f"LOCK TABLE {self.first} IN ACCESS SHARE MODE")  # the cycle: waits for the TRUNCATE
            other.rollback()


def flushed_beside_a_deadlock(run_flush) -> None:
    other = DeadlocksWithTheFlush()
    other.start()
    assert other.holding.wait(30)
    try:
        run_flush()
    finally:
        other.join(30)
    assert not other.is_alive()


def test_a_flush_aborted_by_a_deadlock_is_run_again_and_empties_the_database():
    Tenant.objects.create(name="Left behind")
    with pytest.raises(CommandError) as refused:  # what Django's own flush does: the test's teardown fails
        flushed_beside_a_deadlock(flush)
    assert is_deadlock(refused.value)
    assert Tenant.objects.exists()

    flushed_beside_a_deadlock(outlasting_deadlocks(flush))
    assert not Tenant.objects.exists()


def test_only_a_deadlock_makes_the_flush_run_again():
    calls = []

    def refused():
        calls.append(1)
        raise CommandError("Database test couldn't be flushed.")

    with pytest.raises(CommandError):
        outlasting_deadlocks(refused)()
    assert len(calls) == 1
