"""Requests per second of `GET /api/v1/networks/` under gunicorn against Django's runserver, same run.

A tenant with 50 networks (rows only) and an API token in a database of the benchmark's own
(var/bench-web.sqlite3, made afresh); both servers run the portal as bench/served.py serves it: DEBUG
off, as in production, over plain HTTP on 127.0.0.1, the cache in Redis (database 5), the API throttle
lifted. gunicorn is started as scripts/serve starts it (gthread, cores + 1 workers, at most 12, 4 threads
each); runserver is the baseline. Load: wrk (Debian's `wrk`), 8
connections for 10 s each, after a short warm-up; the two alternate three times and the
medians are compared.

Run: `.venv/bin/python bench/web.py`. The last line reads
`GET /api/v1/networks/ (50 networks, 8 clients): gunicorn <rps> req/s, runserver <rps> req/s, ratio <x>x`.
"""

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DATABASE = ROOT / "var" / "bench-web.sqlite3"
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "true")  # for the set-up in this process only; the servers run with DEBUG off

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.served import environment  # noqa: E402
from networks.models import Cluster, ClusterGrant, Network, Node  # noqa: E402
from networks.services.allocations import subnet_allocate  # noqa: E402
from portal.actors import Actor  # noqa: E402
from portal.models import Membership  # noqa: E402
from portal.services import api_token_create, membership_set, tenant_create  # noqa: E402
from portal.webserver import default_workers  # noqa: E402

NETWORKS = 50
REDIS_DB = 5  # the servers' cache (the throttles' counts), flushed by nothing: its keys expire
CLIENTS = 8
SECONDS = 10
THREADS = 4
ROUNDS = 3
PATH = "/api/v1/networks/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare() -> str:
    """A fresh database with one tenant, its cluster (rows only) and NETWORKS networks; returns a token."""
    DATABASE.parent.mkdir(exist_ok=True)
    DATABASE.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    tenant = tenant_create(name="Bench")
    user = get_user_model().objects.create_user(username="bench")
    membership_set(tenant=tenant, user=user, role=Membership.Role.OWNER)
    cluster = Cluster.objects.create(
        name="bench", docker_endpoint="tcp://192.0.2.1:2376", consul_address="http://192.0.2.1:8500"
    )
    ClusterGrant.objects.create(cluster=cluster, tenant=tenant)
    Node.objects.create(
        cluster=cluster, name="node1", docker_endpoint="tcp://192.0.2.1:2376", address="192.0.2.1", state="ready"
    )
    for number in range(NETWORKS):
        allocation = subnet_allocate(cluster=cluster, owner=f"network net{number}")
        network = Network.objects.create(
            tenant=tenant,
            cluster=cluster,
            name=f"net{number}",
            subnet=allocation.cidr,
            gateway=str(allocation.subnet.network_address + 1),
            status=Network.Status.ACTIVE,
            docker_id=f"{number:064x}",
        )
        allocation.network = network
        allocation.save(update_fields=["network"])
    return api_token_create(actor=Actor.command(), user=user, name="bench")[1]


def server_env() -> dict:
    """As bench/served.py serves the portal: DEBUG off, over plain HTTP on 127.0.0.1 (no redirect to HTTPS)."""
    return dict(os.environ, **environment(os.environ["DATABASE_URL"], REDIS_DB))


def gunicorn_command(port: int) -> tuple[list[str], str]:
    workers = default_workers()
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(THREADS)]
    command += ["--no-control-socket"]
    return command, f"gunicorn ({workers} workers x {THREADS} threads)"


def runserver_command(port: int) -> tuple[list[str], str]:
    return [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], "runserver"


def measure(make_command, key: str) -> tuple[str, float, str]:
    port = free_port()
    command, name = make_command(port)
    url = f"http://127.0.0.1:{port}{PATH}"
    headers = {"Authorization": f"Token {key}"}
    log = open(ROOT / "var" / f"bench-web-{name.split()[0]}.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(command, cwd=ROOT, env=server_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(url, headers=headers, timeout=2)
                if answer.status_code == 200 and answer.json()["count"] == NETWORKS:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"{name} did not answer {PATH}; see var/bench-web-{name.split()[0]}.log")
            time.sleep(0.3)
        wrk = ["wrk", "-t", "2", "-c", str(CLIENTS), "-H", f"Authorization: Token {key}", url]
        subprocess.run([*wrk[:1], "-d", "2s", *wrk[1:]], check=True, capture_output=True)  # warm-up
        output = subprocess.run([*wrk[:1], "-d", f"{SECONDS}s", *wrk[1:]], check=True, capture_output=True, text=True)
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output.stdout).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output.stdout)
        note = f", {errors.group(1)} non-2xx answers" if errors else ""
        return name, rps, note
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run scripts/install-system-packages (Debian's wrk).")
    key = prepare()
    # Alternate the two, ROUNDS times, and keep each one's median: other load on the machine then
    # weighs on both alike.
    figures: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for make_command in (gunicorn_command, runserver_command):
            name, rps, note = measure(make_command, key)
            print(f"{name}: {rps:.0f} req/s{note}", flush=True)
            figures.setdefault(name, []).append(rps)
    fast, slow = (statistics.median(values) for values in figures.values())
    print(
        f"GET {PATH} ({NETWORKS} networks, {CLIENTS} clients): gunicorn {fast:.0f} req/s, "
        f"runserver {slow:.0f} req/s, ratio {fast / slow:.2f}x"
    )


if __name__ == "__main__":
    main()
