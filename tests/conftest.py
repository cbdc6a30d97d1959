import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.support import database_url

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    """The cluster tool's own test rebuilds the cluster, so it runs after everything that uses it."""
    items.sort(key=lambda item: "tests/cluster/" in item.nodeid.replace(os.sep, "/"))


@pytest.fixture(scope="session")
def cluster_description() -> dict:
    path = Path(settings.CLUSTER_DESCRIPTION_FILE)
    if not path.exists():
        pytest.fail(f"No local cluster ({path} is missing): run `cluster/cluster up` or `make test`.")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, tmp_path_factory):
    """A real `celery worker` process on the real Redis, reading and writing the test database."""
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = dict(os.environ, DATABASE_URL=database_url(), CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    env["CELERY_RESULT_BACKEND"] = settings.CELERY_RESULT_BACKEND
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [celery, "-A", "portal", "worker", "--loglevel=INFO", "--concurrency=2", "--without-heartbeat",
             "--without-gossip", "--without-mingle", "-n", f"test-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    from portal.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The Celery worker exited at start:\n{log.read_text()}")
        if app.control.ping(timeout=1.0):
            break
    else:
        pytest.fail(f"The Celery worker did not answer within 60 s:\n{log.read_text()}")
    process.log_path = log
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
