"""The collation natural order sorts by (plumbing.sorting.NATURAL): ICU's numeric ordering on PostgreSQL.

A PostgreSQL built without ICU gets the same name as a copy of "C" (plain text order), so that lists
still work there, only without numbers compared as numbers. SQLite registers its own on every
connection and needs nothing here.
"""

from django.db import migrations

NATURAL = "portal_natural"  # plumbing.sorting.NATURAL, written out: a migration keeps its own names
ICU_LOCALE = "und-u-kn-true"


def create_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i')")
        has_icu = cursor.fetchone()[0]
    if has_icu:
        schema_editor.execute(f"CREATE COLLATION IF NOT EXISTS {NATURAL} (provider = icu, locale = '{ICU_LOCALE}')")
    else:
        schema_editor.execute(f'CREATE COLLATION IF NOT EXISTS {NATURAL} FROM "C"')


def drop_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP COLLATION IF EXISTS {NATURAL}")


class Migration(migrations.Migration):
    dependencies = [("networks", "0013_operation_waits_on")]

    operations = [migrations.RunPython(create_collation, drop_collation)]
