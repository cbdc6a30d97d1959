"""The batch cases of bench/e2e.py: BATCH single POSTs at once, and BATCH networks in one bulk POST, each
followed until all succeeded, with the CPU they cost (bench/cpu.py). Import after django.setup()."""

from __future__ import annotations

import concurrent.futures
import time

from bench.cpu import CpuMeter, cpu_per_create, profile, profile_end
from bench.portal_state import settle
from bench.served import Portal
from networks.models import Cluster

BATCH = 50
LOGS = "var/bench-e2e/log/"


def line(case: str, portal: float, docker: float, unit: str = "ms") -> float:
    ratio = portal / docker
    print(f"{case:<34} portal {portal * 1000:9.1f} {unit}   docker {docker * 1000:9.1f} {unit}   ratio {ratio:6.2f}x")
    return ratio


def bulk_create(portal: Portal, cluster: Cluster, run: str, docker_batch: float, meter: CpuMeter) -> float:
    """One POST /api/v1/networks/batch/ of BATCH networks, then its operations polled every POLL seconds until
    all succeeded, against BATCH raw creates in a row; the ratio (the last line's).

    Followed as a script follows a batch (`Portal.wait`): one GET every POLL seconds of its operations still
    unfinished, by their ids. A second batch is then followed one operation at a time (one GET every POLL
    seconds, of the first not yet seen finished), printed for comparison only."""

    cpu = {}

    def one(prefix: str, follow) -> tuple[float, float]:
        settle(logs=LOGS)
        body = [{"name": f"{prefix}{run}-{i}", "cluster": cluster.pk} for i in range(BATCH)]
        cpu.setdefault(prefix, []).append(meter.read())
        began = time.perf_counter()
        answer = portal.call("POST", "networks/batch/", json=body)
        posted = time.perf_counter() - began
        cpu[prefix].append(meter.read())
        refused = [result for result in answer["results"] if result["error"]]
        if refused:
            raise SystemExit(f"the bulk create refused {len(refused)} networks, the first: {refused[0]['error']}")
        ended = follow([result["operation"]["id"] for result in answer["results"]]) - began
        cpu[prefix].append(meter.read())
        return posted, ended

    def together(operation_ids: list[int]) -> float:
        portal.wait(operation_ids)
        return portal.finished_at

    def in_turn(operation_ids: list[int]) -> float:
        for pk in operation_ids:
            portal.wait([pk])
        return portal.finished_at

    posted, followed = one("k", together)
    print(f"  bulk create's POST answered in {posted * 1000:.1f} ms")
    bulk = line(f"bulk create ({BATCH} in one POST / in a row)", followed, docker_batch)
    cpu_per_create(meter, *cpu["k"], BATCH, case=f"cpu per create, bulk ({BATCH} in one POST)")
    _, one_by_one = one("m", in_turn)
    line("bulk create, followed one by one", one_by_one, docker_batch)
    return bulk


def batch_create(portal: Portal, cluster: Cluster, prefix: str, *, profiled: bool) -> tuple:
    """BATCH POSTs at once (networks named `prefix` and a number), followed until all succeeded: (seconds to
    the last success, seconds until every POST was answered, CPU per create in ms (web + worker), the CpuMeter).
    `profiled`: py-spy samples it (`--profile`)."""

    def post(i):
        return portal.call("POST", "networks/", json={"name": f"{prefix}{i}", "cluster": cluster.pk})["id"]

    settle(logs=LOGS)
    warm(portal)
    meter = CpuMeter(portal)
    spies = profile(meter) if profiled else []
    cpu_began = meter.read()
    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(BATCH) as pool:
        ids = list(pool.map(post, range(BATCH)))
    answered = time.perf_counter() - began
    cpu_posted = meter.read()
    portal.wait(ids)
    finished = portal.finished_at - began  # the last seen finished (not the read of their ends after)
    cpu_ended = meter.read()
    profile_end(spies)
    cpu = cpu_per_create(meter, cpu_began, cpu_posted, cpu_ended, BATCH)
    return finished, answered, cpu, meter


def warm(portal: Portal) -> None:
    """A burst of reads at once, so that every web process has served a request before the batch's CPU is
    read: a process imports the URLs, views and serializers on its first (the single creates, over one
    kept-alive connection, reach only one), a cost of its start, not of a create."""
    with concurrent.futures.ThreadPoolExecutor(BATCH) as pool:
        list(pool.map(lambda _: portal.call("GET", "networks/"), range(BATCH)))
