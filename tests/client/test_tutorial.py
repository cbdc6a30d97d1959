"""Carina's tutorial with `overlay` only, the installed console script run as a user runs it, against a
live portal (pytest-django's live_server), the real worker and the real local cluster.

Names carry a random suffix: another test session may use the same cluster at the same time.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from portal.actors import Actor
from portal.services import api_token_create, membership_set
from tests.support import first_team

pytestmark = [pytest.mark.cluster, pytest.mark.worker]
OVERLAY = Path(sys.executable).parent / "overlay"
TOOLS = "overlay-portal/tools:latest"


class Shell:
    def __init__(self, home: Path):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OVERLAY_")}
        self.env["XDG_CONFIG_HOME"] = str(home)

    def __call__(self, *args: str, ok: bool = True, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(OVERLAY), *args],
            capture_output=True,
            stdin=subprocess.DEVNULL,  # as CI: no terminal to answer a question
            text=True,
            timeout=300,
            env={**self.env, **env},
        )
        assert "Traceback" not in result.stderr, result.stderr
        if ok:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result


@pytest.fixture
def member(tenant_cluster):
    user = get_user_model().objects.create_user(username=f"cli-{secrets.token_hex(3)}")
    team = first_team(tenant_cluster)
    membership_set(tenant=team, user=user, role="member")
    # made by the user, as on the Tokens page: whoami names them
    return user, team, api_token_create(actor=Actor(user=user, name=user.username), user=user, name="cli")[1]


def test_the_tutorial_with_overlay(live_server, celery_worker_process, tenant_cluster, member, tmp_path):
    user, team, key = member
    overlay = Shell(tmp_path)
    suffix = secrets.token_hex(3)
    net, mysql, wordpress = f"mynetwork-{suffix}", f"mysql-{suffix}", f"wordpress-{suffix}"

    # overlay login: checked against the portal, then saved for the owner only
    assert "Login Succeeded" in overlay("login", "--url", live_server.url, "--token", key, "--tenant", team.slug).stdout
    config = tmp_path / "overlay" / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600 and key in config.read_text()
    whoami = json.loads(overlay("whoami", "--format", "json").stdout)
    assert whoami["user"] == user.username and whoami["token"] == "cli" and whoami["tenant"] == team.slug

    # $ docker network create mynetwork
    created = overlay("network", "create", "--label", "team=blue", net)
    assert created.stdout.strip()
    [row] = json.loads(overlay("network", "ls", "--filter", f"name={net}", "--format", "json").stdout)
    assert row["status"] == "active" and row["labels"] == {"team": "blue"}
    assert overlay("network", "ls", "-q", "--filter", f"name={net}").stdout.split() == [str(row["id"])]
    # A create that names a taken name is the portal's sentence, exit 1
    taken = overlay("network", "create", net, ok=False)
    assert taken.returncode == 1 and taken.stdout == "" and net in taken.stderr

    # $ docker network inspect mynetwork: docker's own JSON
    [view] = json.loads(overlay("network", "inspect", net).stdout)
    assert view["Name"] == net and view["Driver"] == "overlay" and view["Scope"] == "swarm"
    assert view["IPAM"]["Config"][0]["Subnet"] == row["subnet"] and view["Labels"]["team"] == "blue"
    assert view["Id"] == created.stdout.strip()

    # $ docker run --detach --name mysql --net mynetwork --env MYSQL_ROOT_PASSWORD=my-root-pw mysql:5.6
    overlay("run", "-d", "--name", mysql, "--net", net, "--secret-env", "MYSQL_ROOT_PASSWORD=my-root-pw",
            TOOLS, "sh", "-c", "while true; do echo ok | nc -l -p 3306; done")  # fmt: skip
    # $ docker port mysql 3306
    closed = overlay("port", mysql, "3306", ok=False)
    assert closed.returncode == 1
    assert closed.stderr.strip() == f"Error: No public port '3306/tcp' published for {mysql}"

    # $ docker run --detach --name wordpress --net mynetwork --publish 80:80 --env WORDPRESS_DB_HOST=mysql ...
    host_port = 20000 + secrets.randbelow(20000)
    overlay("run", "-d", "--name", wordpress, "--net", net, "--publish", f"{host_port}:80",
            "--env", f"WORDPRESS_DB_HOST={mysql}", "--secret-env", "WORDPRESS_DB_PASSWORD=my-root-pw",
            TOOLS, "sh", "-c", "echo wordpress-home > /tmp/index.html && exec httpd -f -p 80 -h /tmp")  # fmt: skip
    # $ docker port wordpress 80
    [line] = overlay("port", wordpress, "80").stdout.splitlines()
    assert line.endswith(f":{host_port}")
    listed = overlay("ps").stdout
    assert mysql in listed and wordpress in listed and line.split(":")[0] in listed
    containers = {c["name"]: c for c in json.loads(overlay("ps", "--format", "json").stdout)}
    assert "my-root-pw" not in json.dumps(containers[wordpress])

    # mysql resolves by name on mynetwork, from inside wordpress, and its port answers
    diagnosis = overlay("diagnose", wordpress, mysql, "--port", "3306")
    assert "dns: ok" in diagnosis.stdout and "tcp: ok" in diagnosis.stdout

    # $ docker logs --tail 5 -t wordpress   (read by a worker; secret values never shown)
    logged = overlay("logs", "--tail", "5", "-t", wordpress)
    assert "my-root-pw" not in logged.stdout + logged.stderr

    # the network's inspect shows both containers, from every node
    [view] = json.loads(overlay("network", "inspect", net).stdout)
    assert {c["Name"] for c in view["Containers"].values()} >= {mysql, wordpress}

    # --detach prints the operation's id; ops --follow waits for it
    operation = overlay("stop", "--detach", mysql).stdout.strip()
    assert operation.isdigit()
    assert "succeeded" in overlay("ops", operation, "--follow").stdout
    assert mysql not in overlay("ps").stdout and mysql in overlay("ps", "-a").stdout

    # Clean up: both containers (a running one only with -f, as docker), then the network
    running = overlay("rm", wordpress, ok=False)
    assert running.returncode == 1 and "You cannot remove a running container" in running.stderr
    # the cluster's Consul agent: the portal's refusal, not docker's advice to stop it or use -f
    for args in (["rm", "op-consul-node1"], ["rm", "-f", "op-consul-node1"], ["stop", "op-consul-node1"]):
        system = overlay(*args, ok=False)
        assert system.returncode == 1 and "protected system container" in system.stderr, (args, system.stderr)
    assert overlay("rm", "-f", wordpress, mysql).stdout.split() == [wordpress, mysql]
    assert overlay("network", "rm", net).stdout.strip() == net
    gone = overlay("network", "inspect", net, ok=False)
    assert gone.returncode == 1 and f"Error: No such network: {net}" in gone.stderr
    no_logs = overlay("logs", wordpress, ok=False)
    assert no_logs.returncode == 1 and f"Error: No such container: {wordpress}" in no_logs.stderr


def test_a_wrong_token_and_another_teams_network_are_sentences(live_server, tenant_cluster, member, tmp_path):
    overlay = Shell(tmp_path)
    refused = overlay("login", "--url", live_server.url, "--token", "op_wrong", ok=False)
    assert refused.returncode == 1 and "overlay login" in refused.stderr
    assert not (tmp_path / "overlay" / "config.toml").exists()
    _, team, key = member
    env = {"OVERLAY_URL": live_server.url, "OVERLAY_TOKEN": key}
    wrong = overlay("network", "ls", ok=False, OVERLAY_URL=live_server.url, OVERLAY_TOKEN="op_wrong")
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1
    missing = overlay("network", "rm", "no-such-network", ok=False, **env)
    assert missing.returncode == 1 and missing.stderr.strip() == "Error: No such network: no-such-network"
    other = overlay("ps", ok=False, OVERLAY_TENANT="not-my-team", **env)
    assert other.returncode == 1 and other.stderr.strip()


def test_networks_as_code_with_apply_and_export(live_server, celery_worker_process, tenant_cluster, member, tmp_path):
    _, team, key = member
    overlay = Shell(tmp_path)
    env = {"OVERLAY_URL": live_server.url, "OVERLAY_TOKEN": key, "OVERLAY_TENANT": team.slug}
    suffix = secrets.token_hex(3)
    front, back = f"front-{suffix}", f"back-{suffix}"
    both = tmp_path / "networks.yaml"
    both.write_text(
        f"networks:\n  - name: {front}\n    labels: {{tier: web}}\n  - name: {back}\n    prefix_length: 26\n"
        "    internal: true\n"
    )
    dry = overlay("apply", "-f", str(both), "--dry-run", **env)
    assert f"+ create   {front}" in dry.stdout and f"+ create   {back}" in dry.stdout
    assert overlay("network", "ls", "-q", **env).stdout == ""
    asked = overlay("apply", "-f", str(both), ok=False, **env)  # no terminal to answer: nothing done
    assert asked.returncode == 1 and overlay("network", "ls", "-q", **env).stdout == ""

    assert overlay("apply", "-f", str(both), "--yes", **env).stdout.count(": done") == 2
    [made] = json.loads(overlay("network", "ls", "--filter", f"name={back}", "--format", "json", **env).stdout)
    assert made["internal"] and made["subnet"].endswith("/26")
    assert overlay("apply", "-f", str(both), **env).stdout.startswith("Nothing to do")
    exported = tmp_path / "exported.yaml"
    overlay("export", "-f", str(exported), **env)
    assert overlay("apply", "-f", str(exported), "--prune", **env).stdout.startswith("Nothing to do")

    # --prune keeps a network with a container attached, and says so; removes it once it is unused
    only_back = tmp_path / "back.yaml"
    only_back.write_text(f"networks:\n  - name: {back}\n")
    overlay("run", "--name", f"busy-{suffix}", "--net", front, TOOLS, "sleep", "600", **env)
    kept = overlay("apply", "-f", str(only_back), "--prune", "--yes", **env)
    assert f"{front} is kept: containers are attached (busy-{suffix})" in kept.stderr
    overlay("rm", "-f", f"busy-{suffix}", **env)
    pruned = overlay("apply", "-f", str(only_back), "--prune", "--yes", **env)
    assert f"remove {front}: done" in pruned.stdout
    assert overlay("network", "ls", "-q", **env).stdout.split() == [str(made["id"])]
    overlay("network", "rm", back, **env)
