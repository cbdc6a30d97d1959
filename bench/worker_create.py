"""The worker's CPU for one network create's run, in process: no Celery worker, no web, the real local cluster.

Settings as bench/served.py serves the portal (DEBUG off), on a database of the bench's own with the demo team
and the local cluster (cluster/cluster up) registered from its bundle, over mutual TLS (bench/portal_state.py).
Each create is recorded as the API records it (`network_create`, committed: its message goes to a Redis database
nobody takes from), then its task is run here as a pool process runs it (`run_operation_task` traced by Celery,
with its task id): the operation started, the Docker network made, Consul's keys written, the operation
succeeded. Only the run is timed (time.process_time: this process, the run's watcher thread included). Prints the
median and quartiles of the CPU and the SQL statements of one run; `--profile FILE` writes a cProfile of the timed
runs. The cluster is left as it was found (`leave`).

Run under the cluster's lock: `flock /tmp/cluster.lock .venv/bin/python bench/worker_create.py [N]` (default 100
runs). BENCH_DATABASE (bench_worker_create) and BENCH_REDIS_DB (11) name its database (made afresh, dropped at the
end) and Redis database (flushed). Last line: `worker create: <ms> ms CPU per run (median of N), <q> SQL statements`.
"""

from __future__ import annotations

import cProfile
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import in_process  # noqa: E402

DATABASE, REDIS_DB = in_process("bench_worker_create", 11)

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.portal_state import leave, prepare  # noqa: E402
from networks.models import Operation  # noqa: E402
from networks.services.networks.create import network_create  # noqa: E402
from networks.tasks import run_operation_task  # noqa: E402
from portal.actors import Actor  # noqa: E402

WARM = 10


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


def main() -> None:
    count = int(next((arg for arg in sys.argv[1:] if arg.isdigit()), "100"))
    profile_file = sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else ""
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    tenant, cluster, _, _ = prepare(redis_db=REDIS_DB, username="bench-worker", password=uuid.uuid4().hex)
    actor = Actor.command()
    run = uuid.uuid4().hex[:6]
    try:
        with transaction.atomic():
            operations = [
                network_create(actor=actor, tenant=tenant, cluster=cluster, name=f"w{run}-{i}")
                for i in range(WARM + count + 1)
            ]
        profiler = cProfile.Profile(time.process_time) if profile_file else None
        times = []
        for i, operation in enumerate(operations[:-1]):
            timed = i >= WARM
            if timed and profiler:
                profiler.enable()
            began = time.process_time()
            result = run_operation_task.apply(args=[operation.pk], task_id=operation.celery_task_id)
            spent = time.process_time() - began
            if timed and profiler:
                profiler.disable()
            if result.result != "done":
                raise SystemExit(f"operation {operation.pk}: {result.result!r}")
            if timed:
                times.append(spent * 1000)
        last = operations[-1]
        with CaptureQueriesContext(connection) as captured:
            run_operation_task.apply(args=[last.pk], task_id=last.celery_task_id)
        if "--sql" in sys.argv:
            for query in captured.captured_queries:
                print(query["sql"][:300])
        statuses = set(Operation.objects.filter(pk__in=[o.pk for o in operations]).values_list("status", flat=True))
        if statuses != {Operation.Status.SUCCEEDED}:
            raise SystemExit(f"operations ended {statuses}")
        if profiler:
            profiler.dump_stats(profile_file)
        quartiles = statistics.quantiles(times, n=4)
        print(
            f"CPU per run: median {statistics.median(times):.2f} ms, quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f} ms"
        )
        print(
            f"worker create: {statistics.median(times):.2f} ms CPU per run (median of {count}), "
            f"{len(captured)} SQL statements"
        )
    finally:
        leave(cluster)
        connection.close()
        psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
