"""How fast the REST API reads, against a bare Django reading the same rows, in the same run; and how the
networks page compares with the API's first page. No cluster needed.

The portal is served as scripts/serve serves it (gunicorn gthread, cores + 1 workers at most 12, 32
threads each, a PostgreSQL pool of 8 per process, the access log on) with DEBUG off and the Redis
cache, on a PostgreSQL database of the benchmark's own holding one tenant with LISTED networks made as
rows (tests/pages.py `populate`: their blocks, containers on a third of them, shares both ways; the
cluster holds credentials, as a registered one does).
API requests carry `Authorization: Token ...`; the throttle's rate is lifted as bench/e2e.py lifts it.
The HTML page is asked for by a member of the team with the session cookie signing in gives a browser.

The baseline (the floor) is `floor` below under the same gunicorn: a WSGI callable that reads the
same network rows with Django's ORM and the same database pool, and answers them as JSON: no
middleware, no DRF, no token, no tenant check. What the portal takes beyond it is what its own
layers cost. The HTML page's baseline is the API's first page, asked for in turn with it.

Cases (one client, keep-alive, the median of many; portal, baseline, ratio):
  inspect        GET /api/v1/networks/ID/                        against the floor's one row
  list all       GET /api/v1/networks/?page_size=1000 (every network in one page)  against the floor's 1,000
  first page     GET /api/v1/networks/ (the default page of 50)  against the floor's 50
  html page      GET /networks/ (the first page of 25, signed in) against the API's first page

Request by request, the portal, the floor and (beside the first page) the HTML page take turns.

Run: `.venv/bin/python bench/api_reads.py` (needs PostgreSQL on 127.0.0.1:5432 and Redis).
BENCH_DATABASE names its database (default bench_api_reads, made afresh and dropped at the end),
BENCH_REDIS_DB its Redis database (default 10). The line before the last reads
`html page: <r>x the first API page`; the last line reads
`reads: inspect <r>x floor, list 1000 <r>x floor` (portal / floor).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import in_process  # noqa: E402

LISTED = 1000
ROUNDS = 3
# Per round and case, request by request, the portal, the floor and (first page) the HTML page take turns,
# so that other load on the machine weighs on each alike.
SAMPLES = {"inspect": 60, "list all": 10, "first page": 40}
HTML_ROWS = 25  # the networks page's page size (plumbing/live.py)
# As in production (bench/served.py's environment), on a database of its own whatever DATABASE_URL the shell has;
# the gunicorn processes import this module too (for `floor`) and keep the keys of the process that started them.
DATABASE, REDIS_DB = in_process("bench_api_reads", 10)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import Client  # noqa: E402

from networks.bundles import bundle_seal  # noqa: E402
from networks.models import Cluster, Network  # noqa: E402
from portal.actors import Actor  # noqa: E402
from portal.services import api_token_create  # noqa: E402
from portal.webserver import default_workers  # noqa: E402
from tests.factories import made_bundle, make_team  # noqa: E402
from tests.pages import populate  # noqa: E402

FLOOR_FIELDS = ["id", "name", "cluster", "subnet", "gateway", "internal", "encrypted", "labels", "is_external"]
FLOOR_FIELDS += ["docker_id", "status", "created", "updated"]


def floor(environ, start_response):
    """The floor: the network rows the tenant sees (one, or a page) by the ORM, as JSON, and nothing else.

    /networks/ID/ answers one row, /networks/?page_size=N the first N by name; a network's cluster
    name and team come in the same query, as the portal's own list reads them.
    """
    close_old_connections()  # what Django's handler does around a request: the connection goes back to the pool
    try:
        rows = Network.objects.usable_by(int(os.environ["BENCH_TENANT"])).values(
            *FLOOR_FIELDS, cluster_name=F("cluster__name"), owner=F("tenant__slug")
        )
        parts = environ["PATH_INFO"].strip("/").split("/")
        if len(parts) == 2:
            body = rows.filter(pk=int(parts[1])).first()
        else:
            query = dict(pair.split("=", 1) for pair in environ.get("QUERY_STRING", "").split("&") if "=" in pair)
            body = {"results": list(rows.order_by("name")[: int(query.get("page_size", 50))])}
    finally:
        close_old_connections()
    encoded = DjangoJSONEncoder().encode(body).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(encoded)))])
    return [encoded]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare() -> tuple[str, str, int, int]:
    """A fresh database with one team holding LISTED networks; its owner's token, a session cookie of its
    member (signed in as the login form signs in), its id and a network's id."""
    for sql in (f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
    call_command("migrate", verbosity=0)
    team = make_team("Bench")
    # Credentials as a registered cluster holds them (a list that reads whole cluster rows reads them too).
    bundle = made_bundle()
    Cluster.objects.filter(pk=team.cluster.pk).update(
        tls_ca=bundle.tls.ca_pem, tls_cert=bundle.tls.cert_pem, tls_key_sealed=bundle_seal(bundle)["key_sealed"]
    )
    # populate(n) makes n + n // 10 + 1 networks, every one of them the team's own or shared with it.
    made = populate(team, next(n for n in range(LISTED) if n + n // 10 + 1 == LISTED))
    visible = Network.objects.usable_by(team.tenant).count()
    assert visible == LISTED, f"the team sees {visible} networks, not {LISTED}"
    token = api_token_create(actor=Actor.command(), user=team.owner, name="bench")[1]
    browser = Client()
    browser.force_login(team.users["member"])
    return token, browser.cookies[settings.SESSION_COOKIE_NAME].value, team.tenant.pk, made["network"].pk


def serve(application: str, port: int, tenant: int, log) -> subprocess.Popen:
    """gunicorn as scripts/serve starts it (its `web` program), serving `application`."""
    workers = default_workers()
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), application, "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--worker-class", "gthread", "--threads", "32", "--timeout", "150"]
    command += ["--graceful-timeout", "20", "--access-logfile", "-", "--reuse-port", "--no-control-socket"]
    command += ["--pythonpath", str(ROOT / "bench")]
    env = dict(os.environ, DATABASE_POOL_SIZE="8", BENCH_TENANT=str(tenant))
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def answered(session: requests.Session, url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if session.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer; see var/bench-api-reads.log.")


def timed(session: requests.Session, url: str, samples: int, expected: int) -> list[float]:
    """Milliseconds of each GET, the body read (and decoded, for JSON); every answer must hold `expected`
    networks (an HTML page: as many rows of its table)."""
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        answer = session.get(url, timeout=30)
        if answer.headers.get("Content-Type", "").startswith("text/html"):
            count = answer.text.count('<td data-label="Name">')
        else:
            body = answer.json()
            count = len(body["results"]) if "results" in body else 1
        times.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200 or count != expected:
            raise SystemExit(f"GET {url} answered {answer.status_code} with {count} networks, not {expected}.")
    return times


def main() -> None:
    try:
        measure(*prepare())
    finally:
        connection.close()
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"]
        )


def measure(token: str, session_cookie: str, tenant: int, network: int) -> None:
    ports = {"portal": free_port(), "floor": free_port()}
    # Who asks what: the API by its token, the floor, and the page by a member's browser session.
    clients = {"portal": "portal", "floor": "floor", "browser": "portal"}
    paths = {
        "portal": {
            "inspect": f"/api/v1/networks/{network}/",
            "list all": f"/api/v1/networks/?page_size={LISTED}",
            "first page": "/api/v1/networks/",
        },
        "floor": {
            "inspect": f"/networks/{network}/",
            "list all": f"/networks/?page_size={LISTED}",
            "first page": "/networks/",
        },
        "browser": {"first page": "/networks/"},  # the HTML page, beside the API's first page
    }
    expected = {"inspect": 1, "list all": LISTED, "first page": 50}
    sessions = {name: requests.Session() for name in clients}
    sessions["portal"].headers["Authorization"] = f"Token {token}"
    sessions["browser"].cookies.set(settings.SESSION_COOKIE_NAME, session_cookie)
    with open(ROOT / "var" / "bench-api-reads.log", "wb") as log:
        servers = {
            "portal": serve("portal.wsgi:application", ports["portal"], tenant, log),
            "floor": serve("api_reads:floor", ports["floor"], tenant, log),
        }
        try:
            for name, session in sessions.items():
                session.trust_env = False
                base = f"http://127.0.0.1:{ports[clients[name]]}"
                if name in servers:
                    answered(session, base + paths[name]["first page"], servers[name])
                for case, path in paths[name].items():  # warm every worker's pool, caches and code
                    timed(session, base + path, 10, HTML_ROWS if name == "browser" else expected[case])
            figures: dict[tuple[str, str], list[float]] = {}
            for _ in range(ROUNDS):
                for case, samples in SAMPLES.items():
                    for _ in range(samples):
                        for name, session in sessions.items():
                            if case in paths[name]:
                                url = f"http://127.0.0.1:{ports[clients[name]]}{paths[name][case]}"
                                rows = HTML_ROWS if name == "browser" else expected[case]
                                figures.setdefault((name, case), []).extend(timed(session, url, 1, rows))
        finally:
            for server in servers.values():
                server.terminate()
            for server in servers.values():
                server.wait(timeout=30)
    medians = {key: statistics.median(times) for key, times in figures.items()}
    ratios = {}
    print(f"One client, keep-alive; medians in ms; {LISTED} networks in the tenant (PostgreSQL, Redis cache):")
    for case in ("inspect", "list all", "first page"):
        portal, bare = medians["portal", case], medians["floor", case]
        ratios[case] = portal / bare
        print(f"  {case:<11} {paths['portal'][case]:<36} portal {portal:7.1f}  floor {bare:6.1f}  {ratios[case]:.2f}x")
    page, api_page = medians["browser", "first page"], medians["portal", "first page"]
    print(
        f"  {'html page':<11} {'/networks/ (signed in, 25 rows)':<36} portal {page:7.1f}  API p1 {api_page:5.1f}  {page / api_page:.2f}x"
    )
    print(f"html page: {page / api_page:.2f}x the first API page")
    print(f"reads: inspect {ratios['inspect']:.2f}x floor, list {LISTED} {ratios['list all']:.2f}x floor")


if __name__ == "__main__":
    main()
