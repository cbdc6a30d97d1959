"""Many people at once: 50 of them on the portal for 2 minutes, with locust, against the portal as
`make run` serves it (bench/served.py: scripts/serve with gunicorn, a worker, beat and the events
follower; DEBUG off; the API throttle lifted, as bench/e2e.py lifts it, so that the figures are the
portal's and not its rate limit), with the local cluster registered and granted to TEAMS teams.

Each team has NETWORKS real networks and CONTAINERS containers on the swarm, made through the API
before the run, and its people (bench/load_people.py says what each does):
  members  MEMBERS in all, signed in through the login form (a session cookie, CSRF): the dashboard,
           the networks list, a network's page, the containers, the allocation map, the topology and
           the operations, each with what the page asks for by itself (its live part's next look, an
           unfinished operation's row, the inspect view, the long-polled status line or progress)
  scripts  SCRIPTS in all, with team tokens: the API's network list and records and the operations,
           and about a tenth of what everyone does, a network created and removed, each waited for
           (?wait= on the call, or on the operation read afterwards)

Printed: per endpoint (grouped by name, `GET /networks/[id]/`) the requests, requests per second,
p50/p95/p99 in ms and the errors (each error's message below the table); then the reads together
(answered at once: pages, live parts that answer at once, API reads), what is held by design (long
polls) and the changes; the requests sent again because gunicorn had closed their kept-alive
connection (bench/load_people.py `closed`: counted apart, not as errors); the errors and
tracebacks in the portal's own logs; the CPU time of the
portal's processes and of locust, and the web's per request (sign-ins included). Targets: reads p95 under READ_P95_MS ms, no error.

Run: `make bench`, or `.venv/bin/python bench/load.py [--duration SECONDS]` (default 120) after
`make setup`, under `flock /tmp/cluster.lock` beside other users of the local swarm.
BENCH_DATABASE names its database (default bench_load, made afresh), BENCH_REDIS_DB its Redis
database (default 8). The last line reads `load: <n> req/s, reads p95 <ms> ms, errors <n>`.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import Portal, environment, pick_database  # noqa: E402

TEAMS, MEMBERS, SCRIPTS, NETWORKS, CONTAINERS = 5, 30, 20, 8, 2
ARRIVALS = 5  # people arriving per second: the warm-up (each member's sign-in costs a PBKDF2 hash) is apart
READ_P95_MS = 200
RUN_DIR = ROOT / "var" / "bench-load"

REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "8"))
os.environ.update(environment(pick_database(os.environ.get("BENCH_DATABASE", "bench_load")), REDIS_DB))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.portal_state import leave  # noqa: E402
from networks.models import Cluster  # noqa: E402
from networks.services.grants import cluster_grant  # noqa: E402
from portal.actors import Actor  # noqa: E402
from portal.models import Membership  # noqa: E402
from portal.services import api_token_create, membership_set, tenant_create  # noqa: E402

PASSWORD = uuid.uuid4().hex


def prepare() -> tuple[Cluster, list, list[dict], str]:
    """The teams, their owners, members and team tokens; the cluster registered and granted to each.
    Returns the cluster, the teams as (tenant, token), the members, and a token of the first owner."""
    # A database of the bench's own, new each run: messages an earlier run left in its Redis name rows that are gone.
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True)
    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    hashed = make_password(PASSWORD)  # one hash for all: each costs a PBKDF2 run
    teams, members = [], []
    for number in range(1, TEAMS + 1):
        tenant = tenant_create(name=f"Load {number}")
        owner = users.create(username=f"owner-{number}", password=hashed)
        membership_set(tenant=tenant, user=owner, role=Membership.Role.OWNER)
        if number == 1:
            call_command("cluster_register", tenant=tenant.slug, stdout=open(os.devnull, "w"))  # noqa: SIM115
            cluster = Cluster.objects.get()
            owner_token = api_token_create(actor=Actor.command(), user=owner, name="bench")[1]
        else:
            cluster_grant(actor=Actor.command(), cluster=cluster, tenant=tenant)
        team_token = api_token_create(
            actor=Actor.command(), user=owner, team=tenant, role=Membership.Role.MEMBER, name="load"
        )[1]
        teams.append((tenant, team_token))
    for index in range(MEMBERS):
        tenant = teams[index % TEAMS][0]
        user = users.create(username=f"member-{index}", password=hashed)
        membership_set(tenant=tenant, user=user, role=Membership.Role.MEMBER)
        members.append({"username": user.username, "password": PASSWORD, "team": tenant.slug})
    return cluster, teams, members, owner_token


def populate(portal: Portal, cluster: Cluster, teams: list) -> dict[str, list[int]]:
    """Each team's networks and containers, made through the API and waited for; the networks' ids."""

    def make(team: tuple) -> list[int]:
        tenant, token = team
        headers = {"Authorization": f"Token {token}"}
        with concurrent.futures.ThreadPoolExecutor(NETWORKS) as pool:
            made = pool.map(
                lambda i: portal.call(
                    "POST", "networks/", json={"name": f"{tenant.slug}-{i}", "cluster": cluster.pk}, headers=headers
                )["id"],
                range(NETWORKS),
            )
            networks = [operation["network"] for operation in portal.wait(list(made), headers)]
        runs = [
            portal.call(
                "POST",
                "containers/",
                headers=headers,
                json={
                    "cluster": cluster.pk,
                    "name": f"{tenant.slug}-c{i}",
                    "image": "overlay-portal/tools:latest",
                    "command": ["sleep", "3600"],
                    "networks": [{"network": networks[i]}],
                },
            )["id"]
            for i in range(CONTAINERS)
        ]
        portal.wait(runs, headers)
        return networks

    with concurrent.futures.ThreadPoolExecutor(TEAMS) as pool:
        networks = dict(zip((tenant.slug for tenant, _ in teams), pool.map(make, teams), strict=True))
    if portal.failed:
        raise SystemExit("The portal could not make the teams' networks and containers; see var/bench-load/log/.")
    return networks


def percentiles(times: list[float]) -> tuple[float, float, float]:
    if len(times) == 1:
        return times[0], times[0], times[0]
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def report(samples: list, seconds: float) -> tuple[float, float, int]:
    """The table per endpoint, the kinds together, the errors; returns (req/s, reads p95, errors)."""
    resent = [sample for sample in samples if sample[1] == "closed"]
    samples = [sample for sample in samples if sample[1] != "closed"]
    by_name: dict[tuple[str, str], list] = collections.defaultdict(list)
    for name, kind, _start, ms, error in samples:
        by_name[(kind, name)].append((ms, error))
    print(f"{'endpoint':<44} {'kind':<6} {'requests':>8} {'req/s':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6}")
    errors: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for (kind, name), rows in sorted(by_name.items()):
        p50, p95, p99 = percentiles([ms for ms, _ in rows])
        failed = [error for _, error in rows if error]
        errors[name].update(failed)
        print(
            f"{name:<44} {kind:<6} {len(rows):>8} {len(rows) / seconds:>6.1f} "
            f"{p50:>7.0f} {p95:>7.0f} {p99:>7.0f} {len(failed):>6}"
        )
    for kind, label in (("read", "reads"), ("held", "held"), ("change", "changes")):
        times = [ms for _, k, _, ms, _ in samples if k == kind]
        if times:
            p50, p95, p99 = percentiles(times)
            print(f"{label:<8} {len(times):>6} requests, p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms")
    changes = sum(1 for name, kind, *_ in samples if kind == "change" and "/login/" not in name)
    print(f"creates and removes: {changes} of {len(samples)} requests ({100 * changes / len(samples):.1f}%)")
    print(
        f"connections closed before an answer, the request sent again: {len(resent)} "
        f"({', '.join(sorted({name for name, *_ in resent})) or 'none'})"
    )
    for name, counted in errors.items():
        for error, count in counted.most_common(3):
            print(f"  error {name}: {count} x {error}")
    reads_p95 = percentiles([ms for _, kind, _, ms, _ in samples if kind == "read"])[1]
    return len(samples) / seconds, reads_p95, sum(1 for *_, error in samples if error)


def portal_logs(portal: Portal) -> None:
    """What the portal itself logged: 5xx answers in the access log, tracebacks and errors anywhere."""
    found = []
    for log in sorted((portal.home / "log").glob("*.log")):
        text = log.read_text(errors="replace")
        server_errors = len(re.findall(r'" 5\d\d \d', text))
        tracebacks = text.count("Traceback (most recent call last)")
        logged = len(re.findall(r"\b(ERROR|CRITICAL)\b", text))
        if server_errors or tracebacks or logged:
            found.append(f"{log.name}: {server_errors} 5xx, {tracebacks} tracebacks, {logged} ERROR lines")
    print("portal logs: " + ("; ".join(found) if found else f"no 5xx, traceback or ERROR in {portal.home / 'log'}"))


def portal_cpu(portal: Portal) -> dict[str, float]:
    """CPU seconds (user + system) of the portal's processes so far, by program."""
    programs = {"gunicorn": "web", "celery": "worker", "follow_events": "events", "postgres": "postgres"}
    spent: dict[str, float] = collections.Counter()
    tree = psutil.Process(portal.process.pid).children(recursive=True)
    postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    for process in tree + postgres:
        try:
            line = " ".join(process.cmdline()) or process.name()
            times = process.cpu_times()
        except psutil.Error:
            continue
        for marker, program in programs.items():
            if marker in line:
                spent[program] += times.user + times.system
                break
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds of load (default 120)")
    args = parser.parse_args()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    cluster, teams, members, owner_token = prepare()
    portal = Portal("bench-load", pool_size=TEAMS * NETWORKS + 8)
    portal.start(owner_token)
    try:
        print(
            f"load bench on {cluster.docker_endpoint} (TLS), database {connection.vendor}, {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB, load average {os.getloadavg()[0]:.2f} before"
        )
        networks = populate(portal, cluster, teams)
        people = {
            "members": [{**member, "networks": networks[member["team"]]} for member in members],
            "scripts": [
                {
                    "token": teams[i % TEAMS][1],
                    "team": teams[i % TEAMS][0].slug,
                    "cluster": cluster.pk,
                    "networks": networks[teams[i % TEAMS][0].slug],
                }
                for i in range(SCRIPTS)
            ],  # fmt: skip
        }
        (RUN_DIR / "people.json").write_text(json.dumps(people))
        samples_file = RUN_DIR / "samples.json"
        samples_file.unlink(missing_ok=True)
        time.sleep(2)  # the events follower's echo of the set-up
        print(
            f"{MEMBERS} members and {SCRIPTS} scripts in {TEAMS} teams ({NETWORKS} networks and {CONTAINERS} "
            f"containers each), {args.duration} s"
        )
        cpu_before = portal_cpu(portal)
        began = time.monotonic()
        with open(RUN_DIR / "locust.log", "w") as log:
            locust = subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load_people.py"), "--headless",
                 "--users", str(MEMBERS + SCRIPTS), "--spawn-rate", str(ARRIVALS),
                 "--run-time", f"{args.duration + (MEMBERS + SCRIPTS) // ARRIVALS}s",
                 "--stop-timeout", "30", "--host", portal.base, "--only-summary", "--loglevel", "WARNING"],
                env=dict(os.environ, LOAD_PEOPLE=str(RUN_DIR / "people.json"), LOAD_SAMPLES=str(samples_file)),
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            )  # fmt: skip
        seconds = time.monotonic() - began
        cpu = {program: spent - cpu_before.get(program, 0) for program, spent in portal_cpu(portal).items()}
        if not samples_file.exists():
            raise SystemExit(f"locust wrote no samples (exit {locust.returncode}); see {RUN_DIR / 'locust.log'}.")
        recorded = json.loads(samples_file.read_text())
        arrived = recorded["measured_from"]
        warm = [sample for sample in recorded["samples"] if sample[2] < arrived]
        samples = [sample for sample in recorded["samples"] if sample[2] >= arrived]
        warm_errors = sum(1 for *_, error in warm if error)
        print(
            f"warm-up ({MEMBERS + SCRIPTS} people arriving, {MEMBERS} sign-ins): {len(warm)} requests, "
            f"p95 {percentiles([ms for *_, ms, _ in warm])[1]:.0f} ms, {warm_errors} errors; then:"
        )
        last = max(start + ms / 1000 for _, _, start, ms, _ in samples)
        rate, reads_p95, errors = report(samples, last - arrived)
        errors += warm_errors
        children = os.times()
        print(
            "CPU seconds: "
            + ", ".join(f"{program} {spent:.1f}" for program, spent in sorted(cpu.items()))
            + f", locust {children.children_user + children.children_system:.1f} (over {seconds:.0f} s, "
            f"{os.cpu_count()} cores); web {1000 * cpu.get('web', 0) / len(recorded['samples']):.1f} ms per request"
        )
        portal_logs(portal)
        met = reads_p95 < READ_P95_MS and errors == 0
        print(f"targets (reads p95 < {READ_P95_MS} ms, 0 errors): {'met' if met else 'missed'}")
        print(f"load: {rate:.1f} req/s, reads p95 {reads_p95:.0f} ms, errors {errors}")
    finally:
        portal.stop()
        leave(cluster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
