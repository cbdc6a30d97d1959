"""scripts/serve runs web (gunicorn), worker, beat and the events follower under supervisord: a process
killed with -9 comes back while the others keep serving, and SIGINT stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

from tests.conftest import ROOT
from tests.resilience.processes import OwnRedis, celery_on, free_port
from tests.support import database_url, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class Served:
    def __init__(self, tmp_path, url: str):
        self.port = free_port()
        self.conf = tmp_path / "run" / "supervisord.conf"
        self.output = tmp_path / "serve.out"
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=url,
            CELERY_RESULT_BACKEND=url,
            CACHE_URL=url.rsplit("/", 1)[0] + "/1",  # the test's Redis, as scripts/serve uses the machine's
            PORTAL_ADDR=f"127.0.0.1:{self.port}",
            OIDC_PROVIDER_ADDR=f"127.0.0.1:{free_port()}",  # the local identity provider, a port of its own
            WEBHOOK_RECEIVER_ADDR=f"127.0.0.1:{free_port()}",  # and the local webhook receiver
            PORTAL_RUN_DIR=str(tmp_path / "run"),
            PORTAL_LOG_DIR=str(tmp_path / "log"),
            WEB_WORKERS="2",
            WORKER_CONCURRENCY="2",
        )
        self.probe = celery_on(url)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [str(ROOT / "scripts" / "serve")], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def pid(self, program: str) -> int:
        answer = subprocess.run(
            ["supervisorctl", "-c", str(self.conf), "pid", program], capture_output=True, text=True, check=False
        )
        return int(answer.stdout.strip()) if answer.stdout.strip().isdigit() else 0

    def web_answers(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/login/", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def worker_answers(self) -> bool:
        return bool(self.probe.control.ping(timeout=1.0))

    def log(self) -> str:
        return self.output.read_text()[-4000:]


@pytest.fixture
def served(tmp_path):
    redis = OwnRedis(tmp_path)
    redis.start()
    portal = Served(tmp_path, redis.url())
    portal.start()
    yield portal
    if portal.process.poll() is None:
        portal.process.send_signal(signal.SIGTERM)
        portal.process.wait(timeout=200)
    redis.stop()


def test_a_killed_worker_and_a_killed_web_master_come_back_while_the_others_keep_serving(served):
    wait_until(lambda: served.web_answers() and served.worker_answers(), timeout=90)
    programs = {
        name: served.pid(name) for name in ("web", "worker", "beat", "events", "oidc-provider", "webhook-receiver")
    }
    assert all(programs.values()), programs

    os.kill(programs["worker"], signal.SIGKILL)
    killed = time.monotonic()
    for _ in range(4):
        assert served.web_answers(), served.log()
        time.sleep(0.5)
    worker = wait_until(lambda: (pid := served.pid("worker")) not in (0, programs["worker"]) and pid, timeout=60)
    wait_until(served.worker_answers, timeout=60)
    print(f"worker back (pid {programs['worker']} -> {worker}) answering in {time.monotonic() - killed:.1f} s")

    os.kill(programs["web"], signal.SIGKILL)
    killed = time.monotonic()
    assert served.worker_answers()
    web = wait_until(lambda: (pid := served.pid("web")) not in (0, programs["web"]) and pid, timeout=60)
    wait_until(served.web_answers, timeout=60)
    print(f"web back (pid {programs['web']} -> {web}) answering in {time.monotonic() - killed:.1f} s")
    assert served.pid("beat") == programs["beat"] and served.pid("events") == programs["events"]

    served.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    assert served.process.wait(timeout=200) == 0
    assert "Stopped." in served.log()
    for pid in (worker, web, programs["beat"], programs["events"]):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not served.web_answers()
