"""The client's configuration, its sentences for every failure and its retries, on httpx's MockTransport
(one module's unit tests: no portal); and the installed console script's usage errors and refused
connection, as a user meets them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import httpx
import pytest
from overlay_cli import api as client_api
from overlay_cli.config import ConfigError, Profile, load, write_profile

OVERLAY = Path(sys.executable).parent / "overlay"
PROFILE = Profile(name="default", url="http://portal.invalid", token="op_secret", tenant="blue")


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("OVERLAY_URL", "OVERLAY_TOKEN", "OVERLAY_TENANT", "OVERLAY_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_login_writes_an_owner_only_file_and_env_and_profile_override_it(config_home, monkeypatch):
    path = write_profile(PROFILE)
    write_profile(Profile(name="staging", url="http://staging.invalid/", token='we"ird\\key'))
    assert path == config_home / "overlay" / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load() == PROFILE
    assert load("staging").token == 'we"ird\\key' and load("staging").url == "http://staging.invalid"
    monkeypatch.setenv("OVERLAY_TENANT", "green")
    monkeypatch.setenv("OVERLAY_URL", "http://other.invalid")
    assert load().tenant == "green" and load().url == "http://other.invalid" and load().token == "op_secret"
    monkeypatch.setenv("OVERLAY_PROFILE", "staging")
    assert load().token == 'we"ird\\key'
    with pytest.raises(ConfigError, match='No profile "nope"'):
        load("nope")


def test_a_wider_file_is_narrowed_and_no_config_is_a_sentence(config_home):
    with pytest.raises(ConfigError, match="overlay login"):
        load()
    path = config_home / "overlay" / "config.toml"
    path.parent.mkdir()
    path.write_text("[default]\n")
    path.chmod(0o644)
    write_profile(PROFILE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("[default\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load()


def answering(status: int, json=None, headers=None, content=b""):
    def handler(request: httpx.Request) -> httpx.Response:
        if json is not None:
            return httpx.Response(status, json=json, headers=headers)
        return httpx.Response(status, content=content, headers=headers)

    return client_api.Api(PROFILE, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("api", "sentence"),
    [
        (
            answering(401, {"error": {"code": "bad_token", "message": "Invalid token.", "field": None}}),
            "Invalid token. Make a new token on the portal's Tokens page and run `overlay login` again.",
        ),
        (
            answering(
                429,
                {"error": {"code": "throttled", "message": "Too many requests.", "field": None}},
                headers={"Retry-After": "42"},
            ),  # fmt: skip
            "Too many requests. Try again in 42 s.",
        ),
        (answering(502, content=b"<html>bad gateway</html>"), "The portal answered 502 Bad Gateway: try again later"),
        (
            answering(409, {"error": {"code": "name_taken", "message": "Pick another name.", "field": "name"}}),
            "name: Pick another name.",
        ),
        (answering(200, content=b"<html>a login page</html>"), "answered something that is not JSON"),
    ],
)
def test_every_failure_is_the_portals_sentence(api, sentence):
    with pytest.raises(client_api.ApiError) as caught:
        api.call("networks_retrieve", id=1)
    assert sentence in caught.value.message


def test_a_retried_create_sends_the_same_idempotency_key_and_the_tenant(monkeypatch):
    monkeypatch.setattr(client_api.time, "sleep", lambda seconds: None)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ReadTimeout("lost on the way back", request=request)
        return httpx.Response(202, json={"id": 7, "status": "queued"})

    api = client_api.Api(PROFILE, transport=httpx.MockTransport(handler))
    assert api.network_create({"name": "web"})["id"] == 7
    keys = {request.headers["Idempotency-Key"] for request in seen}
    assert len(seen) == 2 and len(keys) == 1 and keys != {""}
    assert seen[0].headers["X-Tenant"] == "blue" and seen[0].headers["Authorization"] == "Token op_secret"
    # a second command is a new create: a new key
    api.network_create({"name": "web"})
    assert seen[2].headers["Idempotency-Key"] not in keys


def test_a_stop_is_not_retried(monkeypatch):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("lost", request=request)

    api = client_api.Api(PROFILE, transport=httpx.MockTransport(handler))
    with pytest.raises(client_api.ApiError, match="did not answer in time"):
        api.call("containers_stop", id=3)
    assert len(calls) == 1


def overlay(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(OVERLAY), *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize(
    "args",
    [
        ["network", "create"],
        ["network", "create", "--subnet"],
        ["network", "create", "--opt", "nonsense=1", "web"],
        ["network", "create", "--driver", "bridge", "web"],
        ["network", "ls", "--filter", "colour=red"],
        ["run", "--name", "x"],
        ["ps", "--format", "yaml"],
        ["frobnicate"],
        ["login", "--url", "http://127.0.0.1:9", "--token", ""],  # what "$(a failed command)" gives
        ["login", "--url", "http://127.0.0.1:9", "--token", "two words"],
    ],
)
def test_bad_flags_exit_2_with_usage(tmp_path, args):
    result = overlay(*args, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 2, result
    assert "Error:" in result.stderr and "Traceback" not in result.stderr


def test_a_portal_that_is_down_is_a_sentence(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "OVERLAY_URL": "http://127.0.0.1:9", "OVERLAY_TOKEN": "x"}
    result = overlay("network", "ls", env=env)
    assert result.returncode == 1 and result.stdout == ""
    assert (
        result.stderr.startswith("Cannot reach the portal at http://127.0.0.1:9") and "Traceback" not in result.stderr
    )
    nothing = overlay("ps", env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)})
    assert nothing.returncode == 1 and "overlay login" in nothing.stderr


def test_a_plan_creates_shares_notes_and_never_prunes_a_network_in_use():
    from overlay_cli.apply import make_plan

    def network(id_, name, **extra):
        return {"id": id_, "name": name, "status": "active", "shared": False, "is_external": False,
                "subnet": "10.0.1.0/24", "labels": {}, "shared_with": [], "containers": [], **extra}  # fmt: skip

    rows = [
        network(1, "web", shared_with=["green"]),
        network(2, "busy", containers=[{"container": 9, "container_name": "mysql"}]),
        network(3, "idle"),
        network(4, "theirs", shared=True),
        network(5, "gone", status="removed"),
    ]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"results": rows}))
    api = client_api.Api(PROFILE, transport=transport)
    desired = [
        {"name": "web", "labels": {"team": "blue"}, "shared_with": ["red"]},
        {"name": "new", "prefix_length": 26},
    ]
    steps, notes = make_plan(api, desired, prune=True)
    assert [step.line().split() for step in steps] == [
        ["~", "share", "web", "with", "red"],
        ["~", "unshare", "web", "from", "green"],
        ["+", "create", "new"],
        ["-", "remove", "idle"],
    ]
    assert any(note.startswith("web: labels is {}") for note in notes)
    assert "busy is kept: containers are attached (mysql); a plan never removes it." in notes
    # the same file against what it describes: nothing to do, and without --prune nothing is removed
    same = [{"name": "web", "labels": {}, "shared_with": ["green"]}, {"name": "busy"}, {"name": "idle"}]
    assert make_plan(api, same, prune=True) == ([], [])
    assert make_plan(api, [], prune=False) == ([], [])


@pytest.mark.parametrize(
    ("command", "column"),
    [
        (["sh", "-c", "while true; do echo ok; done"], '"sh -c while true; d…"'),
        (["sleep", "600"], '"sleep 600"'),
        (["twenty-characters-ok"], '"twenty-characters-ok"'),
        ([], '""'),
        (None, '""'),
    ],
)
def test_ps_writes_the_command_as_docker_ps_does(command, column):
    from overlay_cli.containers import command_column

    assert command_column(command) == column


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0.4, "Less than a second"),
        (1, "1 second"),
        (59.9, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "About an hour"),
        (5399, "About an hour"),
        (5400, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (13 * 86400, "13 days"),
        (14 * 86400, "2 weeks"),
        (59 * 86400, "8 weeks"),
        (60 * 86400, "2 months"),
        (729 * 86400, "24 months"),
        (730 * 86400, "2 years"),
    ],
)
def test_ps_says_how_long_ago_as_docker_does(seconds, said):
    from datetime import datetime, timedelta

    from overlay_cli.output import ago, human_duration

    assert human_duration(seconds) == said
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    created = (now - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    assert ago(created, now) == f"{said} ago"


def test_a_time_a_little_ahead_of_this_clock_is_less_than_a_second_ago():
    from datetime import datetime

    from overlay_cli.output import ago

    assert ago("2026-12-06T12:00:03Z", datetime(2026, 12, 6, 12, 0, tzinfo=UTC)) == "Less than a second ago"


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ({"status": "running", "started_at": "2026-12-06T11:55:00Z"}, "Up 5 minutes"),
        ({"status": "running", "started_at": "2026-12-06T11:59:59.5Z"}, "Up Less than a second"),
        ({"status": "exited", "finished_at": "2026-12-06T09:00:00Z", "exit_code": 137}, "Exited (137) 3 hours ago"),
        ({"status": "exited", "finished_at": "2026-12-06T11:59:00Z", "exit_code": 0}, "Exited (0) About a minute ago"),
        ({"status": "running", "started_at": None}, "running"),  # not read from Docker yet
        ({"status": "running"}, "running"),  # a portal from before the times
        ({"status": "creating", "started_at": None}, "creating"),
        ({"status": "failed", "finished_at": None}, "failed"),
    ],
)
def test_ps_writes_the_status_as_docker_ps_does(row, said):
    from datetime import UTC, datetime

    from overlay_cli.containers import status_column

    assert status_column(row, datetime(2026, 12, 6, 12, 0, tzinfo=UTC)) == said
