"""The web's CPU for one `POST /api/v1/networks/`, in process: no gunicorn, no worker, no cluster.

Settings as bench/served.py serves the portal (DEBUG off, the Redis cache, so the token and membership come
from memory, a PostgreSQL pool of 8), on a database of the bench's own with a team whose cluster was recorded
from a swarm nobody calls (tests/factories.py). Each POST goes through Django's WSGI handler (as gunicorn
calls it) with a token and an Idempotency-Key, and commits: the message is published to Redis (nobody takes
it) and the operation stamped `sent`. Between POSTs, untimed, the operation is marked succeeded so that the
unfinished operations do not pile up. Prints the median and quartiles of the CPU (time.process_time) and the
SQL statements of one POST; `--profile FILE` writes a cProfile of the timed POSTs.

`--served`: gunicorn as scripts/serve starts it (5 processes x 32 threads, the access log on) serves the same
database instead, still without a worker; after a burst of 50 GETs at once (bench/e2e.py's warm-up), N
rounds of 50 POSTs at once, then 50 one at a time, each measured as bench/e2e.py measures the web's part
(user+system CPU of gunicorn's processes, /proc): the CPU per POST of each round and their median, and each
round's time from the first POST sent to the last answered (the swarm's lock makes the blocks one at a time).

Run: `.venv/bin/python bench/web_create.py [N]` (default 200 POSTs; with --served, 5 rounds). BENCH_DATABASE (bench_web_create) and
BENCH_REDIS_DB (11) name its database (made afresh, dropped at the end) and Redis database (flushed).
Last line: `web create: <ms> ms CPU per POST (median of N), <q> SQL statements, PostgreSQL <ms> ms` (the
last: its backends' CPU over the timed POSTs, per POST, read from /proc in clock ticks: a mean, not a median).
"""

from __future__ import annotations

import concurrent.futures
import cProfile
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import in_process  # noqa: E402

DATABASE, REDIS_DB = in_process("bench_web_create", 11)
os.environ.setdefault("DATABASE_POOL_SIZE", "8")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.cpu import database_backends, process_cpu, process_tree  # noqa: E402
from networks.models import Operation  # noqa: E402
from tests.factories import make_team  # noqa: E402

WARM = 20


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


def post(handler: WSGIHandler, token: str, cluster: int, name: str) -> tuple[int, bytes]:
    """One POST through the WSGI handler, as gunicorn makes it; (status, body)."""
    body = json.dumps({"name": name, "cluster": cluster}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/networks/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    answered: list[str] = []
    result = handler(environ, lambda status, headers, exc_info=None: answered.append(status))
    content = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return int(answered[0].split()[0]), content


BURST = 50


def served(token: str, cluster: int, rounds: int) -> None:
    """`--served`: the CPU per POST of gunicorn's processes, 50 at once (each round) and one at a time."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application", "-c", "python:portal.webserver"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "5", "--worker-class", "gthread", "--threads", "32"]
    command += ["--timeout", "150", "--graceful-timeout", "20", "--access-logfile", "-", "--reuse-port"]
    command += ["--no-control-socket"]
    log = open(ROOT / "var" / "bench-web-create.log", "w")  # noqa: SIM115
    server = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, DATABASE_POOL_SIZE="8"), stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=BURST + 8))
    session.headers["Authorization"] = f"Token {token}"
    base = f"http://127.0.0.1:{port}/api/v1"
    names = iter(range(10**9))

    def call(method: str, path: str, **kwargs) -> dict:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
        answer = session.request(method, f"{base}/{path}", headers=headers, timeout=60, **kwargs)
        if answer.status_code >= 400:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def post(_=None) -> int:
        return call("POST", "networks/", json={"name": f"s{next(names)}", "cluster": cluster})["id"]

    walls: list[float] = []

    def measured(make) -> float:
        pids = process_tree(server.pid)
        before = {pid: process_cpu(pid) for pid in pids}
        began = time.monotonic()
        ids = make()
        walls.append(time.monotonic() - began)
        spent = sum(process_cpu(pid) - before[pid] for pid in pids)
        Operation.objects.filter(pk__in=ids).update(status=Operation.Status.SUCCEEDED)  # as a worker would
        return spent / len(ids) * 1000

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                session.get(f"{base}/clusters/", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not answer; see var/bench-web-create.log.") from None
                time.sleep(0.3)
        with concurrent.futures.ThreadPoolExecutor(BURST) as pool:
            list(pool.map(lambda _: call("GET", "networks/"), range(BURST)))
            bursts = [measured(lambda: list(pool.map(post, range(BURST)))) for _ in range(rounds)]
        in_turn = measured(lambda: [post() for _ in range(BURST)])
        print("50 at once, CPU per POST by round: " + ", ".join(f"{ms:.1f}" for ms in bursts) + " ms")
        print("50 at once, each round's time: " + ", ".join(f"{s * 1000:.0f}" for s in walls[:-1]) + " ms")
        print(f"web create served: {BURST} at once {statistics.median(bursts):.1f} ms CPU per POST (median of "
              f"{rounds} rounds, first {bursts[0]:.1f}), one at a time {in_turn:.1f} ms")  # fmt: skip
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)


def main() -> None:
    count = int(next((arg for arg in sys.argv[1:] if arg.isdigit()), "200"))
    profile_file = sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else ""
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True)
    try:
        call_command("migrate", verbosity=0)
        team = make_team("Bench", api=True)
        token, cluster = team.keys["owner"], team.cluster.pk
        if "--served" in sys.argv:
            served(token, cluster, count if count != 200 else 5)
            return
        handler = WSGIHandler()
        profiler = cProfile.Profile(time.process_time) if profile_file else None
        times, queries = [], 0
        backends: list[int] = []
        postgres = 0.0  # PostgreSQL's CPU over the timed POSTs (its backends of this database, from /proc)
        for i in range(WARM + count):
            timed = i >= WARM
            if i == WARM:
                backends = database_backends(DATABASE)
            before = sum(process_cpu(pid) for pid in backends)
            if timed and profiler:
                profiler.enable()
            began = time.process_time()
            status, content = post(handler, token, cluster, f"w{i}")
            spent = time.process_time() - began
            if timed and profiler:
                profiler.disable()
            if status != 202:
                raise SystemExit(f"POST answered {status}: {content[:300]!r}")
            if timed:
                times.append(spent * 1000)
                postgres += sum(process_cpu(pid) for pid in backends) - before
            Operation.objects.filter(pk=json.loads(content)["id"]).update(status=Operation.Status.SUCCEEDED)
        with CaptureQueriesContext(connection) as captured:
            post(handler, token, cluster, "counted")
        queries = len(captured)
        if "--sql" in sys.argv:
            for query in captured.captured_queries:
                print(query["sql"][:300])
        if profiler:
            profiler.dump_stats(profile_file)
        quartiles = statistics.quantiles(times, n=4)
        print(
            f"CPU per POST: median {statistics.median(times):.2f} ms, quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f} ms"
        )
        print(
            f"web create: {statistics.median(times):.2f} ms CPU per POST (median of {count}), {queries} SQL statements, "
            f"PostgreSQL {postgres / count * 1000:.2f} ms"
        )
    finally:
        connection.close()
        psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
