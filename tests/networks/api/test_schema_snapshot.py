"""The OpenAPI schema is the one committed in schema.snapshot.yaml, so a change to it is deliberate.

A change that means to alter the API regenerates the snapshot on PostgreSQL and commits it with the
change: `SCHEMA_SNAPSHOT_UPDATE=1 DATABASE_URL=postgres://... .venv/bin/pytest
tests/networks/api/test_schema_snapshot.py`. The snapshot's diff is then what reviewers read of it.

An integer field's bounds are the database's (SQLite's integers are all 64-bit, PostgreSQL's
smallint and integer are not): the snapshot is PostgreSQL's, as in production, and on another
database those bounds alone are left out of the comparison.
"""

import difflib
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

SNAPSHOT = Path(__file__).with_name("schema.snapshot.yaml")
DATABASE_BOUNDS = re.compile(
    r"^ *(maximum: (32767|2147483647|9223372036854775807)|minimum: -(32768|2147483648|9223372036854775808)"
    r"|format: int64)\n",
    re.MULTILINE,
)


def comparable(schema: str) -> str:
    return schema if connection.vendor == "postgresql" else DATABASE_BOUNDS.sub("", schema)


def test_the_schema_is_the_committed_snapshot(tmp_path):
    generated = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(generated))
    schema = generated.read_text()
    if os.environ.get("SCHEMA_SNAPSHOT_UPDATE"):
        if connection.vendor != "postgresql":
            pytest.fail("Regenerate the snapshot on PostgreSQL (DATABASE_URL): its integer bounds are production's.")
        SNAPSHOT.write_text(schema)
    committed, schema = comparable(SNAPSHOT.read_text()), comparable(schema)
    diff = "".join(difflib.unified_diff(committed.splitlines(True), schema.splitlines(True), "committed", "generated"))
    assert schema == committed, (
        "The API's schema changed. If that is meant, regenerate the snapshot (SCHEMA_SNAPSHOT_UPDATE=1, on "
        f"PostgreSQL) and commit it with the change:\n{diff[:4000]}"
    )
