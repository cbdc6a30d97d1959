"""On PostgreSQL, refuse overlapping blocks in one cluster at the database level.

SQLite has no exclusion constraints; there the per-cluster lock and the unique start address
are the guard. The constraint uses int8range over the integer bounds and btree_gist for the
cluster equality.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE networks_subnetallocation
  ADD CONSTRAINT subnetallocation_no_overlap_per_cluster
  EXCLUDE USING gist (cluster_id WITH =, int8range(first, last, '[]') WITH &&);
"""
DROP = "ALTER TABLE networks_subnetallocation DROP CONSTRAINT IF EXISTS subnetallocation_no_overlap_per_cluster;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("networks", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
