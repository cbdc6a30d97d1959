import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import register_local
from tests.support import database_url

ROOT = Path(__file__).resolve().parent.parent

# Fixtures shared across the tree live in these modules (tests/fixtures/).
pytest_plugins = [
    "tests.fixtures.teams",
    "tests.fixtures.cluster_inputs",
    "tests.fixtures.oidc",
    "tests.fixtures.webhook_receiver",
    "tests.fixtures.flush",
]


def pytest_collection_modifyitems(config, items):
    """The cluster tool's own test rebuilds the cluster, so it runs after everything that uses it."""
    items.sort(key=lambda item: "tests/cluster/" in item.nodeid.replace(os.sep, "/"))


@pytest.fixture(autouse=True, scope="session")
def _statements_captured_as_written():
    """A query captured by a test (CaptureQueriesContext, Django's query log) shows each statement prepared on
    the connection (plumbing/server_prepared.py: `EXECUTE portal_...(values)`) as the statement itself, so that
    what a test reads of a create's SQL (the tables, FOR UPDATE, what goes with the COMMIT) is still there."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    from plumbing.server_prepared import readable

    written = DatabaseOperations.last_executed_query

    def last_executed_query(self, cursor, sql, params):
        sent = written(self, cursor, sql, params)
        return readable(sent) if sent else sent

    DatabaseOperations.last_executed_query = last_executed_query
    yield
    DatabaseOperations.last_executed_query = written


@pytest.fixture
def broker_redis():
    """The tests' Redis database of the task queue, emptied before and after the test."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def cluster_description() -> dict:
    path = Path(settings.CLUSTER_DESCRIPTION_FILE)
    if not path.exists():
        pytest.fail(f"No local cluster ({path} is missing): run `cluster/cluster up` or `make test`.")
    return json.loads(path.read_text())


class PortalProcess:
    """A real portal process (the Celery worker, the events follower) on the real Redis and the test database."""

    name = "process"

    def __init__(self, log_dir: Path, env: dict | None = None):
        self.log_dir = log_dir
        self.env = env or {}  # e.g. another CELERY_BROKER_URL for a process on a Redis the test started
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}-{self.starts}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        self.starts += 1
        env = dict(os.environ, DATABASE_URL=database_url(), CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
        env["CELERY_RESULT_BACKEND"] = settings.CELERY_RESULT_BACKEND
        env.update(self.env)
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"The {self.name} exited at start:\n{self.log_path.read_text()}")
            if self.ready():
                return
            time.sleep(0.2)
        pytest.fail(f"The {self.name} was not ready within 60 s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (parent and pool), as a crash or an OOM kill would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class WorkerProcess(PortalProcess):
    """`celery worker`, ready when it answers a ping."""

    name = "worker"

    def command(self) -> list[str]:
        celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        return [
            celery,
            "-A",
            "portal",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}-{self.starts}@%h",
        ]

    @property
    def nodename(self) -> str:
        """The name it answers to (`-n`, with Celery's %h filled in)."""
        return self.command()[-1].replace("%h", socket.gethostname())

    def ready(self) -> bool:
        from portal.celery import app

        # This worker by its name, answered as soon as it replies (a ping to all waits the whole timeout).
        return bool(app.control.ping(destination=[self.nodename], limit=1, timeout=1.0))


class FollowerProcess(PortalProcess):
    """`manage.py follow_events`, ready when it follows every node of the clusters in the database."""

    name = "follower"

    def __init__(self, log_dir: Path, nodes: int):
        super().__init__(log_dir)
        self.nodes = nodes

    def command(self) -> list[str]:
        return [sys.executable, "manage.py", "follow_events", "--rescan", "1"]

    def ready(self) -> bool:
        return self.log_path.read_text().count(": following ") >= self.nodes


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, tmp_path_factory):
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    worker = WorkerProcess(tmp_path_factory.mktemp("worker"))
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def tenant_cluster(cluster_description, transactional_db):
    """The local cluster registered for a fresh tenant, reconciled (the ingress and leftovers are external).

    On teardown every Docker object carrying this cluster's label and its Consul keys are removed,
    so tests do not see each other's networks.
    """
    import uuid

    from networks.engine import consul as consul_engine
    from networks.engine import docker as docker_engine
    from networks.services.containers.system import system_containers_sync
    from networks.services.reconcile import cluster_reconcile_now
    from portal.services import tenant_create

    tenant = tenant_create(name=f"Team {uuid.uuid4().hex[:6]}")
    cluster = register_local(tenant, cluster_description)
    cluster_reconcile_now(cluster=cluster)
    system_containers_sync(cluster=cluster)
    yield cluster
    label = [f"overlay-portal.cluster={cluster.uid}"]
    for node in cluster_description["nodes"]:
        for attrs in docker_engine.list_containers(node["docker_socket"], label=label):
            docker_engine.remove_container(node["docker_socket"], attrs["Id"])
    for attrs in docker_engine.find_networks(cluster.docker, labels=label):
        docker_engine.remove_network(cluster.docker, attrs["Id"])
    consul_engine.kv_delete(cluster.consul, cluster.consul_prefix, recurse=True)
    for node in cluster_description["nodes"]:
        agent = f"http://{node['address']}:8500"
        for service_id in consul_engine.services(agent):
            if service_id.startswith(f"overlay-portal-{cluster.uid}-"):
                consul_engine.service_deregister(agent, service_id)


@pytest.fixture
def events_follower(tenant_cluster, celery_worker_process, tmp_path):
    """The events follower, following the tenant cluster's nodes (start it after the cluster is registered)."""
    follower = FollowerProcess(tmp_path, nodes=tenant_cluster.nodes.count())
    follower.start()
    yield follower
    follower.stop()
