"""rows_update writes each row's own values of a few fields in one UPDATE, as bulk_update would: text, numbers,
JSON, times and nulls, on PostgreSQL (which types a CASE of literals as text) and on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from networks.models import Operation
from plumbing.bulk import rows_update
from tests.factories import make_operation

pytestmark = pytest.mark.django_db

FIELDS = ["status", "attempts", "started", "progress", "result", "waits_on", "waiting_since"]


def test_each_row_gets_its_own_values_in_one_statement(team):
    rows = [make_operation(team, target=f"t{i}") for i in range(3)]
    untouched = make_operation(team, target="other")
    at = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    for i, row in enumerate(rows):
        row.status = [Operation.Status.RUNNING, Operation.Status.SUCCEEDED, Operation.Status.QUEUED][i]
        row.attempts = i + 1
        row.started = at + timedelta(seconds=i)
        row.progress = [*row.progress, {"at": at.isoformat(), "message": f'Step {i} (it\'s "quoted").'}]
        row.result = {"id": f"{i:064x}"} if i else {}
        row.waits_on = Operation.WaitsOn.CLUSTER if i == 2 else Operation.WaitsOn.NOTHING
        row.waiting_since = at if i == 2 else None

    with CaptureQueriesContext(connection) as queries:
        assert rows_update(rows, FIELDS) == 3
    assert len(queries) == 1

    for row in rows:
        stored = Operation.objects.get(pk=row.pk)
        assert [getattr(stored, name) for name in FIELDS] == [getattr(row, name) for name in FIELDS]
    stored = Operation.objects.get(pk=untouched.pk)
    assert (stored.target, stored.attempts, stored.result) == ("other", 0, {})


def test_nothing_to_write_is_no_statement():
    with CaptureQueriesContext(connection) as queries:
        assert rows_update([], FIELDS) == 0
    assert len(queries) == 0
