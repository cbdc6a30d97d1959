"""The portal served for a benchmark as `make run` serves it (scripts/serve: gunicorn, a Celery worker, beat
and the events follower under supervisord), shared by bench/e2e.py, bench/scale.py and bench/load.py: a database of the
bench's own, a port, requests as a token's user and waiting for operations. No Django here: a bench picks its
database before it sets Django up (bench/portal_state.py, imported after, prepares the portal's world and
says when the served portal is idle).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import requests
import requests.adapters
import urllib3.util
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.010  # seconds between two looks at an operation, as issue 28 asks
IDS_AT_ONCE = 100  # operations read in one request by their ids (the API's most)


def pick_database(name: str) -> str:
    """A new database called `name`: PostgreSQL when one answers on 127.0.0.1:5432, else SQLite under var/."""
    if shutil.which("pg_isready") and subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0:
        for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
        return f"postgres://postgres@127.0.0.1:5432/{name}"
    path = ROOT / "var" / f"{name}.sqlite3"
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def environment(database_url: str, redis_db: int) -> dict[str, str]:
    """As in production (DEBUG off), but over plain HTTP on 127.0.0.1: no redirect to HTTPS, cookies that a
    plain-HTTP client keeps. The bench's process and the served portal share the keys (the cluster's key is
    sealed with them at registration) and the Redis cache (the web processes share the throttles' counts)."""
    return dict(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{redis_db}",
        CACHE_URL=f"redis://127.0.0.1:6379/{redis_db}",
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="false",
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        PORTAL_SECRETS_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        API_THROTTLE_RATE="100000000/minute",
        LOG_LEVEL="WARNING",
    )


# Made afresh by each `environment()`: a process a bench starts (gunicorn's, which import the bench for its
# floor) keeps its parent's (KEYS_MADE says the parent made them), as the keys sealed in the database must match.
KEYS = ("SECRET_KEY", "PORTAL_SECRETS_KEYS")
KEYS_MADE = "BENCH_KEYS_MADE"


def in_process(database: str, redis_db: int) -> tuple[str, int]:
    """A bench that runs the portal's code in its own process: its database and Redis database (BENCH_DATABASE
    and BENCH_REDIS_DB, else `database` and `redis_db`) and `environment`'s settings put in this process's
    environment before Django is set up, whatever the shell has (`make bench` passes on its DEBUG, its
    development key and any DATABASE_URL: a bench fills its database with rows of its own, and drops it at the
    end); the keys of the bench that started this process are kept (`KEYS`). Returns the database's name and
    Redis's."""
    database = os.environ.get("BENCH_DATABASE", database)
    redis_db = int(os.environ.get("BENCH_REDIS_DB", str(redis_db)))
    inherited = os.environ.get(KEYS_MADE) == "yes"
    for name, value in environment(f"postgres://postgres@127.0.0.1:5432/{database}", redis_db).items():
        if not (inherited and name in KEYS):
            os.environ[name] = value
    os.environ[KEYS_MADE] = "yes"
    return database, redis_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(action) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


class Portal:
    """scripts/serve on a port of its own, its run and log files under var/<name>/; requests as a token's user."""

    def __init__(self, name: str, *, pool_size: int = 58):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.home = ROOT / "var" / name
        self.session = requests.Session()
        self.session.trust_env = False
        self.process = None
        self.failed: list[dict] = []  # operations that failed (reported, counted at the end)
        self.finished_at = 0.0  # perf_counter when `wait` last saw its operations all finished
        # gunicorn drops a kept-alive connection after 2 s idle; a request that meets it is sent again
        # (POSTs carry an Idempotency-Key, so a second send is the same create).
        retry = urllib3.util.Retry(total=3, connect=3, read=3, backoff_factor=0.02, allowed_methods=None, status=0)
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry)
        self.session.mount("http://", adapter)

    def start(self, token: str) -> None:
        shutil.rmtree(self.home / "log", ignore_errors=True)  # the logs of this run alone
        env = dict(
            os.environ,
            PORTAL_ADDR=f"127.0.0.1:{self.port}",
            PORTAL_RUN_DIR=str(self.home / "run"),
            PORTAL_LOG_DIR=str(self.home / "log"),
            # its own sign-in provider and webhook receiver: those `make run` serves may hold the default ports
            OIDC_PROVIDER_ADDR=f"127.0.0.1:{free_port()}",
            WEBHOOK_RECEIVER_ADDR=f"127.0.0.1:{free_port()}",
        )
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
        )
        self.session.headers["Authorization"] = f"Token {token}"
        probe = requests.Session()  # without the retries, which would log each refused connection while it starts
        probe.trust_env, probe.headers["Authorization"] = False, f"Token {token}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if probe.get(f"{self.base}/api/v1/clusters/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise SystemExit(f"The portal did not answer on {self.base}; see {self.home / 'log'}/.")

    def stop(self) -> None:
        """supervisord stops every program it runs (web, worker, beat, follower), then scripts/serve exits:
        no worker of the benchmark's database is left to reconcile the swarm behind later runs."""
        if self.process is None:
            return
        conf = self.home / "run" / "supervisord.conf"
        subprocess.run(["supervisorctl", "-c", str(conf), "shutdown"], capture_output=True, timeout=120)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)

    def login(self, username: str, password: str) -> requests.Session:
        """A browser's session: the login form, its CSRF token, then the pages."""
        browser = requests.Session()
        browser.trust_env = False
        browser.get(f"{self.base}/login/", timeout=10)
        answer = browser.post(
            f"{self.base}/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": f"{self.base}/login/"},
            timeout=10,
        )
        if "sessionid" not in browser.cookies:
            raise SystemExit(f"The bench user could not log in ({answer.status_code}).")
        return browser

    def call(self, method: str, path: str, **kwargs) -> dict:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
        headers.update(kwargs.pop("headers", {}))
        answer = self.session.request(method, f"{self.base}/api/v1/{path}", timeout=60, headers=headers, **kwargs)
        if answer.status_code >= 400:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else {}

    def wait(self, operation_ids: list[int], headers: dict | None = None) -> list[dict]:
        """Follow the operations to their ends, each in order (`headers`: another team's token, say). One
        operation is read every POLL seconds (`GET /api/v1/operations/ID/`); several as a script follows a
        batch: every POLL seconds one GET of those still unfinished (`?id=...&status=queued&status=running`,
        up to 100 ids a request) until none is, then their ends read the same way. `finished_at` is when the
        last was seen finished (perf_counter), before that read."""
        headers = headers or {}
        if len(operation_ids) == 1:
            while (operation := self.call("GET", f"operations/{operation_ids[0]}/", headers=headers))["status"] not in (
                "succeeded",
                "failed",
            ):
                time.sleep(POLL)
            self.finished_at = time.perf_counter()
            ended = [operation]
        else:
            pending = list(operation_ids)
            while pending:
                pending = [op["id"] for op in self.listed(pending, headers, "&status=queued&status=running")]
                if pending:
                    time.sleep(POLL)
            self.finished_at = time.perf_counter()
            found = {op["id"]: op for op in self.listed(list(operation_ids), headers)}
            ended = [found[pk] for pk in operation_ids]
        for operation in ended:
            if operation["status"] == "failed":
                self.failed.append(operation)
                print(f"  operation {operation['id']} ({operation['target']}) failed: {operation['error']}")
        return ended

    def listed(self, operation_ids: list[int], headers: dict, query: str = "") -> list[dict]:
        """The operations of `operation_ids` (`GET /api/v1/operations/?id=...`, 100 ids a request)."""
        found = []
        for start in range(0, len(operation_ids), IDS_AT_ONCE):
            ids = ",".join(str(pk) for pk in operation_ids[start : start + IDS_AT_ONCE])
            found += self.call("GET", f"operations/?id={ids}&page_size={IDS_AT_ONCE}{query}", headers=headers)[
                "results"
            ]
        return found
