"""The deployment files: `manage.py check --deploy` with deploy/overlay-portal.env.example reports no
warning, the example's placeholders are refused, and production is secure when DEBUG is off."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "overlay-portal.env.example"


def example_environment(**changes) -> dict[str, str]:
    """The example file as systemd's EnvironmentFile= reads it, with the placeholders it says to replace replaced."""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "portal.settings"}
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return {**env, **changes}


def replaced(env: dict[str, str]) -> dict[str, str]:
    return {
        name: secrets.token_urlsafe(50) if value.startswith("replace-with-") else value for name, value in env.items()
    } | {
        "DATABASE_URL": env["DATABASE_URL"].replace("replace-with-the-db-password", secrets.token_hex(8)),
        "PORTAL_SECRETS_KEYS": Fernet.generate_key().decode(),
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_with_the_example_environment_reports_no_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=replaced(example_environment()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout


def test_without_the_example_the_defaults_are_still_secure_and_check_deploy_says_what_is_missing():
    env = replaced(example_environment())
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        del env[name]  # the defaults with DEBUG off: on
    del env["SECURE_HSTS_PRELOAD"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    warnings = {line.split()[1] for line in result.stderr.splitlines() if line.startswith("?: (")}
    assert warnings == {"(security.W021)"}, result.stdout + result.stderr  # only the preload decision is left


@pytest.mark.parametrize("name", ["SECRET_KEY", "METRICS_TOKEN", "PORTAL_SECRETS_KEYS"])
def test_the_examples_placeholders_are_refused(name):
    env = replaced(example_environment())
    env[name] = example_environment()[name]
    result = manage("check", env=env)
    assert result.returncode != 0 and "placeholder" in result.stderr, result.stderr[-2000:]


def test_secure_settings_can_be_turned_off_explicitly():
    env = replaced(example_environment(SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0"))
    result = manage("check", "--deploy", env=env)
    assert "security.W004" in result.stderr and "security.W008" in result.stderr, result.stderr


def test_gunicorn_loads_its_configuration_and_the_portal_with_the_example_environment():
    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run(
        [str(gunicorn), "--check-config", "-c", "deploy/gunicorn.conf.py", "portal.wsgi"],
        cwd=ROOT,
        env=replaced(example_environment()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db  # the test database's name in its settings
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the pool and lock_timeout are PostgreSQL's")
def test_the_web_servers_connections_are_pooled_and_wait_for_a_lock_at_most_10_seconds():
    """deploy/gunicorn.conf.py, read before the portal's settings as gunicorn reads it, gives production's web
    server what scripts/serve gives `make run`'s: a pool of 8 connections a process, and PostgreSQL's lock_timeout
    (a request behind a lock nobody lets go is answered 503: plumbing/database_retry.py)."""
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    url = f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
    script = (
        "import runpy, django; runpy.run_path('deploy/gunicorn.conf.py'); django.setup(); "
        "from django.db import connection; cursor = connection.cursor(); cursor.execute('SHOW lock_timeout'); "
        "print(cursor.fetchone()[0], connection.settings_dict['OPTIONS']['pool']['max_size'])"
    )
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**env, "DATABASE_URL": url}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["10s", "8"]
