"""plumbing/database_faults.py: a kept PostgreSQL connection is trusted without Django's health-check round trip
only while its socket has nothing to read; one the server ended is checked, closed and opened again."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection

from plumbing.database_faults import health_checks_by_socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="the socket of a PostgreSQL connection: run with DATABASE_URL=postgres://...",
    ),
]


@pytest.fixture
def kept(monkeypatch):
    """The connection as a worker keeps it between tasks (CONN_MAX_AGE, CONN_HEALTH_CHECKS)."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()
    connection.ensure_connection()
    yield connection
    connection.close()


def a_tasks_start() -> None:
    close_old_connections()  # Django resets the check: the next query would make its round trip
    assert not connection.health_check_done
    health_checks_by_socket()


def test_a_quiet_connection_is_trusted_without_a_round_trip(kept):
    with kept.cursor() as cursor:
        cursor.execute("SELECT 1")
    a_tasks_start()
    assert kept.health_check_done
    with kept.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)


def test_a_connection_the_server_ended_is_checked_and_opened_again(kept):
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = psycopg.connect(**{k: v for k, v in kept.get_connection_params().items() if k != "cursor_factory"})
    with other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's notice reaches the socket

    a_tasks_start()

    assert not kept.health_check_done  # the round trip is made, finds it dead, and a new one is opened
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
