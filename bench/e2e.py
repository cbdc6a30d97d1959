"""What a user waits for, end to end, against raw Docker on the same cluster in the same run.

The portal runs as `make run` serves it (scripts/serve: gunicorn, a Celery worker, beat and the
events follower under supervisord) on a database of the benchmark's own (PostgreSQL when one
answers on 127.0.0.1:5432, else SQLite) and a Redis database of its own, with the local cluster
(cluster/cluster up) registered from its bundle, over mutual TLS. Raw Docker is the docker SDK
with the same bundle, against the same manager and nodes.

Cases (portal, then raw Docker, then the ratio portal / Docker):
  single create   POST /api/v1/networks/, then GET its operation every 10 ms until it succeeded
                  (median of SINGLE runs)  vs  one `docker network create` (median of SINGLE)
  batch create    BATCH POSTs at once, until all succeeded (followed as a script follows many operations:
                  one GET every 10 ms of those still unfinished, by their ids, `?id=...&status=...`)  vs
                  BATCH creates one after another; and when the BATCH POSTs had all been answered (the
                  web's part: their blocks are made one at a time under the swarm's lock). Each side is
                  the median of ROUNDS batches (one batch's figures moved by up to a fifth from run to run
                  on the 2-core development VM, raw Docker's as much as the portal's); each round is printed
  bulk create     one POST /api/v1/networks/batch/ of BATCH networks, then its operations followed the same
                  way until all succeeded  vs  the same BATCH creates one after another; and, for
                  comparison, a second batch followed one operation at a time (one GET every 10 ms, of the
                  first not yet seen finished)'
  list            every network of a tenant holding LISTED networks, through the API (one page of
                  LISTED, following `next` if a page holds fewer), the first API page and the first HTML
                  page  vs  `docker network ls` of them all
  inspect         GET /api/v1/networks/ID/  vs  `docker network inspect`
  container run   POST /api/v1/containers/ until running  vs  `docker run -d`
  remove          DELETE /api/v1/networks/ID/ until removed  vs  `docker network rm`
  cpu per create  over a batch, the user+system CPU (/proc) per network of the web (gunicorn's master and
                  workers, while the POSTs are answered; the bench's polls after them are printed apart), the
                  worker (Celery's main process and pool children) and PostgreSQL (the backends of the bench's
                  database); the figure is web + worker, in ms, the median of the ROUNDS batches (the last
                  line's). The same over the bulk
                  create's first batch is printed as `cpu per create, bulk ...` (the web's part: its one POST)
  worker's take   from an operation's commit to its task's start in the worker, median of the SINGLE creates:
                  `sent` (the web stamps it in the commit's on_commit hook, just before it publishes) to
                  `started` (when the worker's pool process began the task, stamped with the operation's
                  start once it holds the row; before session 18 the lock's grant), both this machine's
                  clock  vs  one message between two processes through the same Redis (LPUSH, BRPOP)
and, for each list and detail request, the SQL queries it makes with 10 and with LISTED networks
(the same number, or the list does not scale). Raw Docker's creates run before the portal's, and the
portal's are timed once it has finished following them (it imports networks made outside it); runs and
removes take the same turns the other way round. Each timed part starts once the portal has nothing
left to do (`settle`: its worker up, no operation unfinished, no task queued, held or counting down).

Run: `make bench` (after the allocator and web benches), or `.venv/bin/python bench/e2e.py`
after `make setup` (`--creates` runs the three create cases alone, in about a minute; `--profile` samples the
web and the worker with py-spy through the batch). The last line reads
`e2e: batch create <r>x, single create <r>x, list 1000 <r>x, inspect <r>x, bulk create <r>x, cpu per create <ms> ms`
(`--creates`: `e2e: batch create <r>x, single create <r>x, bulk create <r>x, cpu per create <ms> ms`).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import docker.types

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import Portal, environment, pick_database, timed  # noqa: E402

SINGLE, LISTED, RUNS = 20, 1000, 10
ROUNDS = 3  # batches of BATCH, each side
REDIS_DB = 9
RAW_POOL = "10.250.{}.0/24"  # raw Docker's networks keep clear of the portal's blocks (10.0.0.0 upwards)


# As in production (DEBUG off), but over plain HTTP on 127.0.0.1: no redirect to HTTPS, cookies
# that a plain-HTTP client keeps. This process and the served portal share the keys (the cluster's
# key is sealed with them at registration).
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", str(REDIS_DB)))
os.environ.update(environment(pick_database(os.environ.get("BENCH_DATABASE", "bench_e2e")), REDIS_DB))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.e2e_batches import BATCH, LOGS, batch_create, bulk_create, line  # noqa: E402
from bench.portal_state import leave, prepare, settle  # noqa: E402
from bench.take import redis_hop, worker_takes  # noqa: E402
from networks.engine import docker as docker_engine  # noqa: E402
from networks.models import Cluster, Network  # noqa: E402
from portal.models import Tenant  # noqa: E402

RUN = uuid.uuid4().hex[:6]
# A kept-alive connection gunicorn dropped is sent again (Portal's retries); that is not worth a warning each.
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
PASSWORD = uuid.uuid4().hex


def query_counts(tenant: Tenant, cluster: Cluster, user) -> dict[str, int]:
    """SQL queries of each list and detail request, made in this process with Django's test client."""
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    network = Network.objects.filter(tenant=tenant).live().first()
    paths = {
        "GET /api/v1/networks/": "/api/v1/networks/",
        f"GET /api/v1/networks/?page_size={LISTED}": f"/api/v1/networks/?page_size={LISTED}",
        "GET /api/v1/networks/ID/": f"/api/v1/networks/{network.pk}/",
        "GET /networks/ (page)": "/networks/",
        "GET /networks/ID/ (page)": f"/networks/{network.pk}/",
    }
    counts = {}
    for name, path in paths.items():
        client.get(path)  # warm: sessions, caches
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(path, HTTP_X_TENANT=tenant.slug)
        assert answer.status_code == 200, (path, answer.status_code)
        counts[name] = len(queries)
    return counts


def main() -> int:
    creates_only = "--creates" in sys.argv[1:]
    tenant, cluster, user, token = prepare(redis_db=REDIS_DB, username=f"bench-{RUN}", password=PASSWORD)
    manager = docker_engine.client(cluster.docker)
    node1 = cluster.nodes.get(name="node1")
    portal = Portal("bench-e2e", pool_size=BATCH + 8)
    portal.start(token)
    raw_networks: list = []
    try:
        print(f"e2e bench on {cluster.docker_endpoint} (TLS), database {connection.vendor}, run {RUN}")
        # -- single create. Raw Docker's creates first: the portal follows networks made outside it (the
        # events follower, then a reconcile that imports them), and that work is over before the portal's
        # own are timed, so neither side is timed while the other's echo runs.
        docker_times = [
            timed(lambda i=i: raw_networks.append(
                manager.networks.create(f"raw{RUN}-s{i}", driver="overlay", attachable=True,
                                        ipam=_ipam(len(raw_networks)))))
            for i in range(SINGLE)]  # fmt: skip
        docker_batches = [timed(lambda r=r: [
            raw_networks.append(manager.networks.create(f"raw{RUN}-b{r}-{i}", driver="overlay", attachable=True,
                                                        ipam=_ipam(len(raw_networks))))
            for i in range(BATCH)]) for r in range(ROUNDS)]  # fmt: skip
        docker_batch = statistics.median(docker_batches)
        settle(logs=LOGS)
        portal_times, single_ids = [], []
        for i in range(SINGLE):
            began = time.perf_counter()
            operation = portal.call("POST", "networks/", json={"name": f"s{RUN}-{i}", "cluster": cluster.pk})
            portal.wait([operation["id"]])
            portal_times.append(time.perf_counter() - began)
            single_ids.append(operation["id"])
        single = line("single create (median of 20)", statistics.median(portal_times), statistics.median(docker_times))
        took, hop = worker_takes(single_ids), redis_hop(SINGLE, key=f"bench-e2e-hop-{RUN}")
        print(f"  the worker takes its message      {took * 1000:9.1f} ms after the commit (median of {SINGLE}); "
              f"one Redis hop between two processes {hop * 1000:.1f} ms")  # fmt: skip

        # -- batch create: ROUNDS batches, the median of each figure
        rounds = [batch_create(portal, cluster, f"b{RUN}-{r}-", profiled=not r) for r in range(ROUNDS)]
        walls, answers, cpus = ([one[k] for one in rounds] for k in range(3))
        batch = line(f"batch create ({BATCH} at once / in a row)", statistics.median(walls), docker_batch)
        print(f"  the {BATCH} POSTs all answered in {statistics.median(answers) * 1000:.1f} ms")
        rows = zip(walls, docker_batches, cpus, strict=True)
        print(
            "  by round (portal / docker, cpu): "
            + "; ".join(f"{p * 1000:.0f} / {d * 1000:.0f} ms, {c:.1f} ms" for p, d, c in rows)
        )
        cpu, meter = statistics.median(cpus), rounds[0][3]
        bulk = bulk_create(portal, cluster, RUN, docker_batch, meter)
        if creates_only:
            print(
                f"e2e: batch create {batch:.2f}x, single create {single:.2f}x, bulk create {bulk:.2f}x, "
                f"cpu per create {cpu:.1f} ms"
            )
            return 0
        # -- list: fill the tenant up to LISTED networks through the portal itself
        counts_small = query_counts(tenant, cluster, user)
        have = Network.objects.filter(tenant=tenant).live().count()
        for start in range(have, LISTED, BATCH):
            with concurrent.futures.ThreadPoolExecutor(BATCH) as pool:
                ids = list(
                    pool.map(
                        lambda i: portal.call("POST", "networks/", json={"name": f"l{RUN}-{i}", "cluster": cluster.pk})[
                            "id"
                        ],
                        range(start, min(start + BATCH, LISTED)),
                    )
                )
            portal.wait(ids)
        counts_large = query_counts(tenant, cluster, user)
        total = Network.objects.filter(tenant=tenant).live().count()
        settle(logs=LOGS)  # the reads are timed with the creates' echo over

        def list_all():
            url, seen = f"networks/?page_size={LISTED}", 0
            while url:
                page = portal.call("GET", url)
                seen += len(page["results"])
                url = page["next"] and page["next"].split("/api/v1/", 1)[1]
            assert seen == total, (seen, total)

        portal_list = statistics.median(timed(list_all) for _ in range(RUNS))
        docker_list = statistics.median(timed(lambda: manager.api.networks()) for _ in range(RUNS))
        listed = line(f"list {total} (API, one page of {LISTED})", portal_list, docker_list)
        first_page = statistics.median(timed(lambda: portal.call("GET", "networks/")) for _ in range(RUNS))
        line(f"list {total} (API, first page of 50)", first_page, docker_list)
        browser = portal.login(user.username, PASSWORD)
        html_page = statistics.median(
            timed(lambda: browser.get(f"{portal.base}/networks/", timeout=60).raise_for_status()) for _ in range(RUNS)
        )
        line(f"list {total} (HTML page, first 25)", html_page, docker_list)
        # -- inspect
        network = Network.objects.filter(tenant=tenant).live().first()
        portal_inspect = statistics.median(
            timed(lambda: portal.call("GET", f"networks/{network.pk}/")) for _ in range(RUNS * 2)
        )
        docker_inspect = statistics.median(
            timed(lambda: manager.api.inspect_network(network.docker_id)) for _ in range(RUNS * 2)
        )
        inspect = line("inspect one network", portal_inspect, docker_inspect)
        # -- container run, then remove: the portal's first, then raw Docker's once the portal has
        # followed nothing more, so that neither is timed beside the portal following the other's
        node_client = docker_engine.client(node1.docker)
        portal_runs, docker_runs, containers = [], [], []
        settle(logs=LOGS)
        for i in range(RUNS):
            began = time.perf_counter()
            operation = portal.call("POST", "containers/", json={
                "cluster": cluster.pk, "name": f"c{RUN}-{i}", "image": "overlay-portal/tools:latest",
                "command": ["sleep", "600"], "node": "node1"})  # fmt: skip
            containers.append(portal.wait([operation["id"]])[0]["container"])
            portal_runs.append(time.perf_counter() - began)
        settle(logs=LOGS)
        for i in range(RUNS):
            docker_runs.append(timed(lambda i=i: node_client.containers.run(
                "overlay-portal/tools:latest", ["sleep", "600"], name=f"raw{RUN}-c{i}", detach=True)))  # fmt: skip
        line("container run (median of 10)", statistics.median(portal_runs), statistics.median(docker_runs))
        portal_removes, docker_removes = [], []
        settle(logs=LOGS)
        for network in Network.objects.filter(tenant=tenant, name__startswith=f"s{RUN}-")[:RUNS]:
            began = time.perf_counter()
            portal.wait([portal.call("DELETE", f"networks/{network.pk}/")["id"]])
            portal_removes.append(time.perf_counter() - began)
        settle(logs=LOGS)
        for i in range(RUNS):
            docker_removes.append(timed(lambda i=i: raw_networks[i].remove()))
        line("network remove (median of 10)", statistics.median(portal_removes), statistics.median(docker_removes))
        print("SQL queries per request, with 10 and with", total, "networks:")
        for name in counts_small:
            print(f"  {name:<40} {counts_small[name]:>3} -> {counts_large[name]:>3}")
        print(
            f"e2e: batch create {batch:.2f}x, single create {single:.2f}x, list 1000 {listed:.2f}x, inspect {inspect:.2f}x"
            f", bulk create {bulk:.2f}x, cpu per create {cpu:.1f} ms"
        )
    finally:
        portal.stop()
        _clean(cluster, raw_networks)
    return 0


def _ipam(index: int) -> docker.types.IPAMConfig:
    return docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=RAW_POOL.format(index))])


def _clean(cluster: Cluster, raw_networks: list) -> None:
    """Leave the cluster as it was: the raw networks and containers, then the portal's own."""
    for network in raw_networks:
        try:
            network.remove()
        except Exception:  # noqa: BLE001 - removed by a case already
            pass
    leave(cluster, containers_named=f"raw{RUN}-")


if __name__ == "__main__":
    sys.exit(main())
