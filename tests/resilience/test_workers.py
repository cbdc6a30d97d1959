"""Workers on the real cluster: two workers share one queue and each operation is done once; a worker
killed mid-run leaves the other to finish; the whole worker group killed with -9 loses nothing.

"Mid-run" is made sure of, not hoped for: the manager's dockerd is frozen (SIGSTOP) for the few
seconds it takes to see operations running on the worker about to die, which is then killed, and the
dockerd thawed. Each of those operations must then be taken over by another worker and finish.
"""

import contextlib
import ipaddress
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from networks.engine import docker as docker_engine
from networks.models import Network, Operation, SubnetAllocation
from networks.services.networks.create import network_create
from networks.tasks import operations_recover_task
from portal.actors import Actor
from portal.celery import app
from tests.conftest import WorkerProcess
from tests.support import first_team, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]

MANAGER_PID = Path("/run/overlay-portal/node1/docker.pid")
TAKEN_OVER = "The worker running this stopped; another worker takes it over."


@contextlib.contextmanager
def manager_frozen():
    """The swarm manager's dockerd stopped (SIGSTOP): a worker's Docker call hangs mid-run. Thawed
    (SIGCONT) on the way out, whatever happens: the cluster is shared, keep it short."""
    pid = int(MANAGER_PID.read_text())
    frozen = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
        print(f"\nthe manager's dockerd was frozen {time.monotonic() - frozen:.1f} s")


def running(ids: list[int], *, task_ids: set[str] | None = None, at_docker: bool = False) -> set[int]:
    """Which of these operations are RUNNING (and, given `task_ids`, under one of those tasks). `at_docker`: only
    those whose last note is Docker's create: with the manager frozen, hung in that call (the watcher writes a
    held note when its step lasts). One merely RUNNING may be past Docker and end before a kill: a create's
    run is a few ms."""
    found = Operation.objects.filter(pk__in=ids, status=Operation.Status.RUNNING)
    if task_ids is not None:
        found = found.filter(celery_task_id__in=task_ids)
    rows = found.values_list("pk", "progress")
    docker = "Creating overlay network"
    return {pk for pk, progress in rows if not at_docker or (progress and progress[-1]["message"].startswith(docker))}


def active_task_ids(hostname_prefix: str) -> set[str]:
    """The tasks the workers whose name starts with `hostname_prefix` are running now."""
    active = app.control.inspect(timeout=1.0).active() or {}
    return {task["id"] for name, tasks in active.items() if name.startswith(hostname_prefix) for task in tasks}


class SecondWorker(WorkerProcess):
    """Another worker process on the same broker, under a host name of its own."""

    name = "second-worker"

    def __init__(self, log_dir):
        # Celery's own line per task succeeded (WARNING in the portal's settings) tells its share of the work.
        super().__init__(log_dir, env={"CELERY_TASK_LOG_LEVEL": "INFO"})

    def command(self) -> list[str]:
        command = super().command()
        command[-1] = f"second-{command[-1]}"
        return command


def create_many(cluster, count: int, prefix: str) -> list[int]:
    """`count` network creates, named apart from other runs' on the shared swarm (which the cluster
    imports as taken names)."""
    team = first_team(cluster)
    run = uuid.uuid4().hex[:6]
    # Recorded in one transaction, so their messages reach the queue together when it commits: made one by
    # one, the workers finish each soon after it is sent, and none would be left for a worker to die in.
    with transaction.atomic():
        ids = [
            network_create(actor=Actor.system("tests"), tenant=team, cluster=cluster, name=f"{prefix}-{run}-{i}").pk
            for i in range(count)
        ]
    connection.close()
    return ids


def all_finished(ids: list[int]) -> bool:
    return not Operation.objects.filter(pk__in=ids).unfinished().exists()


def wait_with_beat(ids: list[int], timeout: float) -> float:
    """Wait until every operation has finished, sending beat's recovery round every
    OPERATIONS_RECOVER_EVERY seconds as `celery beat` does under `make run`; returns the seconds taken,
    for the record (`timeout` is only there so that a broken recovery fails instead of hanging)."""
    started = time.monotonic()
    deadline = started + timeout
    next_round = started
    while not all_finished(ids):
        assert time.monotonic() < deadline, (
            f"{Operation.objects.filter(pk__in=ids).unfinished().count()} operations still unfinished"
        )
        if time.monotonic() >= next_round:
            operations_recover_task.delay()
            next_round += settings.CELERY_BEAT_SCHEDULE["recover-operations"]["schedule"]
        time.sleep(0.5)
    return time.monotonic() - started


def portal_networks(cluster) -> list[dict]:
    return docker_engine.find_networks(cluster.docker, labels=[f"overlay-portal.cluster={cluster.uid}"])


def assert_each_done_once(cluster, ids: list[int]) -> None:
    operations = list(Operation.objects.filter(pk__in=ids))
    failed = [(o.target, o.error) for o in operations if o.status != Operation.Status.SUCCEEDED]
    assert not failed, failed
    made = portal_networks(cluster)
    names = [n["Name"] for n in made]
    assert len(names) == len(set(names)) == len(ids), "a network was made twice, or not at all"
    subnets = sorted(ipaddress.IPv4Network(n["IPAM"]["Config"][0]["Subnet"]) for n in made)
    assert all(not a.overlaps(b) for a, b in zip(subnets, subnets[1:], strict=False))
    # No leaked subnets: every held block belongs to a live network the portal made.
    held = set(SubnetAllocation.objects.filter(cluster=cluster, kind="network").values_list("cidr", flat=True))
    assert held == set(
        Network.objects.filter(cluster=cluster, is_external=False).live().values_list("subnet", flat=True)
    )


def test_two_workers_share_the_queue_and_one_killed_mid_run_leaves_the_other_to_finish(
    celery_worker_process, tenant_cluster, tmp_path
):
    cluster = tenant_cluster
    second = SecondWorker(tmp_path)
    second.start()
    try:
        ids = create_many(cluster, 100, "pair")
        # Once the second worker has done some of the work, it dies with -9 in the middle of its share.
        wait_until(lambda: "succeeded" in (second.log_path.read_text() if second.log_path.exists() else ""), timeout=60)
        with manager_frozen():
            seen = wait_until(
                lambda: running(ids, task_ids=active_task_ids("second-"), at_docker=True), timeout=20, interval=0.2
            )
            second.kill()
        mid_run = running(list(seen))  # what the dead worker left unfinished
        taken = wait_with_beat(ids, timeout=300)
        print(
            f"\n100 creates, 2 workers, one killed -9 running {len(mid_run)}: all finished {taken:.1f} s after the kill"
        )
    finally:
        second.stop()
    assert_each_done_once(cluster, ids)
    shares = [line for line in second.log_path.read_text().splitlines() if "succeeded in" in line]
    assert shares, "the second worker took no share of the work"
    assert_taken_over(mid_run)


def assert_taken_over(mid_run: set[int]) -> None:
    """Each operation the dead worker was running was handed to another worker, which finished it."""
    assert mid_run, "the killed worker left no operation running: nothing was recovered"
    for operation in Operation.objects.filter(pk__in=mid_run):
        messages = [step["message"] for step in operation.progress]
        assert operation.status == Operation.Status.SUCCEEDED and TAKEN_OVER in messages, (operation.pk, messages)


def test_the_whole_worker_group_killed_with_minus_9_loses_nothing(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    worker = celery_worker_process
    ids = create_many(cluster, 50, "flight")
    wait_until(lambda: Operation.objects.filter(pk__in=ids, status=Operation.Status.SUCCEEDED).exists(), timeout=60)
    with manager_frozen():
        seen = wait_until(lambda: running(ids, at_docker=True), timeout=20, interval=0.2)
        worker.kill()  # the main process and its pool, as an OOM kill or a crash would
    mid_run = running(list(seen))  # what the dead worker group left unfinished
    in_flight = Operation.objects.filter(pk__in=ids).unfinished().count()
    worker.start()
    taken = wait_with_beat(ids, timeout=300)
    print(
        f"\n50 creates, worker group killed -9 running {len(mid_run)}, {in_flight} unfinished: "
        f"all finished {taken:.1f} s after the new worker"
    )
    assert_each_done_once(cluster, ids)
    assert_taken_over(mid_run)
