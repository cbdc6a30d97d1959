"""The API's limits hold under a web server of several processes: they count in the cache those share
(a Redis the test starts, as CACHE_URL), and several processes without one are refused at start."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from portal.actors import Actor
from portal.services import api_token_create
from portal.webserver import unshared_cache_refusal
from tests.apiclient import Api, assert_error
from tests.factories import make_team
from tests.resilience.processes import OwnRedis, WebServer, free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
PROCESSES = 4
REFUSAL = (
    "Refusing to start 4 web processes without a shared cache: each would count the API's rate limit and "
    "wrong tokens in its own memory, so a client would get 4 times its limit. Set CACHE_URL to a Redis every "
    "web process reaches, such as redis://127.0.0.1:6379/1 (another database number than the task queue's), "
    "or run one web process."
)


class SeveralProcesses(WebServer):
    """gunicorn as scripts/serve runs it (its hook, SO_REUSEPORT), logging which process answered each request."""

    def command(self) -> list[str]:
        return [
            GUNICORN,
            "portal.wsgi:application",
            "-c",
            "python:portal.webserver",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(PROCESSES),
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--reuse-port",
            "--access-logfile",
            "-",
            "--access-logformat",
            "answered-by %(p)s %(s)s",
        ]

    def answering_processes(self) -> set[str]:
        return {line.split()[1] for line in self.log_path.read_text().splitlines() if line.startswith("answered-by ")}


@pytest.fixture
def web(tmp_path):
    cache = OwnRedis(tmp_path)
    cache.start()
    env = {"CACHE_URL": cache.url(1), "API_THROTTLE_RATE": "20/day", "TRUSTED_PROXY_COUNT": "1"}
    server = SeveralProcesses(tmp_path, env=env)
    server.start()
    yield server
    server.stop()
    cache.stop()


def get(url: str, **headers) -> int:
    """One request on a connection of its own, so the kernel hands each to any of the processes."""
    return requests.get(url, headers=headers, timeout=30).status_code


@pytest.mark.django_db(transaction=True)
def test_wrong_tokens_and_a_tokens_rate_are_counted_across_the_processes(web):
    team = make_team()
    key = api_token_create(actor=Actor.system("tests"), user=team.member, name="rate")[1]
    networks = f"{web.base}/api/v1/networks/"

    wrong = [
        get(networks, Authorization=f"Token op_guess-{n}", **{"X-Forwarded-For": "203.0.113.7"}) for n in range(40)
    ]
    assert wrong == [401] * 10 + [429] * 30

    # Sent at once from another address: the ones past the limit are refused all the same.
    with ThreadPoolExecutor(20) as pool:
        burst = list(
            pool.map(
                lambda n: get(networks, Authorization=f"Token op_burst-{n}", **{"X-Forwarded-For": "203.0.113.8"}),
                range(40),
            )
        )
    assert sorted(burst) == [401] * 10 + [429] * 30

    honest = {"Authorization": f"Token {key}", "X-Tenant": team.tenant.slug, "X-Forwarded-For": "198.51.100.9"}
    answers = [get(networks, **honest) for _ in range(30)]
    assert answers == [200] * 20 + [429] * 10

    assert len(web.answering_processes()) > 1, web.log_path.read_text()[-3000:]


def run_refused(command: list[str], **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "CACHE_URL"}
    return subprocess.run(
        command, cwd=ROOT, env={**environment, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_gunicorn_with_the_deploy_configuration_refuses_several_processes_without_a_shared_cache():
    result = run_refused(
        [GUNICORN, "-c", "deploy/gunicorn.conf.py", "--bind", "127.0.0.1:0", "portal.wsgi"],
        GUNICORN_WORKERS=str(PROCESSES),
    )
    assert result.returncode == 1
    assert REFUSAL in result.stderr, result.stderr[-3000:]


def test_scripts_serve_refuses_several_processes_when_the_shared_cache_is_emptied(tmp_path):
    result = run_refused(
        ["scripts/serve"],
        CACHE_URL="",
        WEB_WORKERS=str(PROCESSES),
        PORTAL_RUN_DIR=str(tmp_path),
        PORTAL_LOG_DIR=str(tmp_path),
        PORTAL_ADDR="127.0.0.1:0",
    )
    assert result.returncode == 1
    assert REFUSAL in result.stderr, result.stdout + result.stderr
    assert not (tmp_path / "supervisord.conf").exists()  # nothing was started


def test_one_process_or_a_shared_cache_is_allowed(settings):
    assert unshared_cache_refusal(1) is None
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
    assert unshared_cache_refusal(PROCESSES) is None
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert unshared_cache_refusal(PROCESSES) == REFUSAL


@pytest.mark.django_db
def test_a_shared_cache_that_does_not_answer_lets_requests_through_and_says_so(settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "plumbing.cache.ReusingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/1",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    team = make_team("Cache down", api=True)
    assert team.api().get("networks/").status_code == 200
    assert_error(Api("op_guess").get("networks/"), 401, "invalid_token")
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any(
        message.startswith("The API's rate limit is not counted: the cache does not answer") for message in warnings
    )
    assert any(
        message.startswith("A wrong API token was not counted: the cache does not answer") for message in warnings
    )
