"""cluster/cluster builds, reports and removes a real local swarm: namespaces, dockerds, Consul.

No mocks: every check asks the kernel, the Docker engines or Consul. This module tears down
the shared cluster, so the suite runs it LAST (tests/conftest.py orders it), and it always
leaves the default 2-node cluster up at the end, as `cluster/cluster up` makes it.
"""

import json
import os
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

# Marked, not skipped at import: `make check` deselects it by its marker without reporting a skip.
pytestmark = [pytest.mark.cluster, pytest.mark.skipif(os.geteuid() != 0, reason="the cluster tool needs root")]

TOOL = Path(__file__).resolve().parents[2] / "cluster" / "cluster"
CLUSTER_FILE = Path(os.environ.get("OVERLAY_PORTAL_CLUSTER_FILE", "/var/lib/overlay-portal/cluster.json"))
MANAGER = "tcp://192.168.250.11:2376"
CONSUL = "http://192.168.250.11:8500"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def cluster(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(TOOL), *args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"cluster {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def swarm_nodes() -> list[dict]:
    out = subprocess.run(
        ["/usr/bin/docker", "-H", MANAGER, "--tlsverify", "node", "ls", "--format", "{{json .}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env=bundle_env(),
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def bundle_env() -> dict:
    """The docker CLI as a user of the bundle would run it: `source docker.env` (DOCKER_CERT_PATH)."""
    folder = json.loads(CLUSTER_FILE.read_text())["bundle_dir"]
    return dict(os.environ, DOCKER_CERT_PATH=folder, DOCKER_TLS_VERIFY="1")


def consul_members() -> list[dict]:
    with NO_PROXY.open(f"{CONSUL}/v1/agent/members", timeout=5) as response:
        return json.loads(response.read())


def leftovers() -> dict:
    """Everything of a cluster that `down` must remove, as the kernel reports it."""
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout.split()
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    processes = []
    for pid_dir in Path("/proc").glob("[0-9]*"):
        try:
            argv = pid_dir.joinpath("cmdline").read_bytes().split(b"\0")
            zombie = pid_dir.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            continue
        name = os.path.basename(argv[0].decode(errors="replace"))
        ours = any(b"overlay-portal" in arg for arg in argv)
        if name.startswith(("dockerd", "containerd")) and ours and not zombie:  # PID 1 reaps zombies late
            processes.append(f"{pid_dir.name} {name}")
    return {
        "namespaces": [n for n in netns if n.startswith("op-")],
        "links": [line.split(":")[1].strip() for line in links.splitlines() if ": op-" in line],
        "processes": processes,
        "mounts": [line for line in Path("/proc/mounts").read_text().splitlines() if "overlay-portal" in line],
    }


@pytest.fixture(scope="module", autouse=True)
def restore_default_cluster():
    """Whatever happens in between, leave the default cluster up for the lead and later runs."""
    yield
    cluster("up")


@pytest.fixture(scope="module")
def three_nodes() -> dict:
    cluster("up", "--nodes", "3")
    return json.loads(CLUSTER_FILE.read_text())


def test_up_with_three_nodes_makes_every_swarm_node_ready(three_nodes):
    nodes = swarm_nodes()
    assert sorted(n["Hostname"] for n in nodes) == ["node1", "node2", "node3"]
    assert {n["Status"] for n in nodes} == {"Ready"}
    assert [n["ManagerStatus"] for n in nodes if n["Hostname"] == "node1"] == ["Leader"]


def test_up_with_three_nodes_makes_three_alive_consul_members(three_nodes):
    members = consul_members()
    assert sorted((m["Name"], m["Addr"], m["Status"]) for m in members) == [
        ("node1", "192.168.250.11", 1),
        ("node2", "192.168.250.12", 1),
        ("node3", "192.168.250.13", 1),
    ]


def test_description_file_lists_the_three_nodes(three_nodes):
    assert three_nodes["manager"] == "node1"
    assert three_nodes["consul_http_address"] == CONSUL
    assert three_nodes["images"]["consul"] == "overlay-portal/consul:1.8.7"
    assert three_nodes["images"]["tools"] == "overlay-portal/tools:latest"
    assert "192.168.250.1:5000/tutorial/mysql:5.6" in three_nodes["images"]["registry"]
    assert [n["docker_endpoint"] for n in three_nodes["nodes"]] == [f"tcp://192.168.250.1{i}:2376" for i in (1, 2, 3)]
    assert [(n["name"], n["address"], n["role"]) for n in three_nodes["nodes"]] == [
        ("node1", "192.168.250.11", "manager"),
        ("node2", "192.168.250.12", "worker"),
        ("node3", "192.168.250.13", "worker"),
    ]
    assert {n["swarm_node_id"] for n in three_nodes["nodes"]} == {n["ID"] for n in swarm_nodes()}


def test_the_bundle_drives_the_docker_cli_over_tls_and_no_plain_port_answers(three_nodes):
    env_file = Path(three_nodes["bundle_dir"]) / "docker.env"
    shell = f'source "{env_file}" && docker info --format "{{{{.Swarm.NodeAddr}}}}"'
    answer = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=30)
    assert answer.returncode == 0 and answer.stdout.strip() == "192.168.250.11", answer.stderr
    for node in three_nodes["nodes"]:
        plain = subprocess.run(
            ["/usr/bin/docker", "-H", f"tcp://{node['address']}:2375", "version"],
            capture_output=True, text=True, timeout=30, env={**os.environ, "DOCKER_TLS_VERIFY": ""},
        )  # fmt: skip
        assert plain.returncode != 0
    unverified = subprocess.run(
        ["/usr/bin/docker", "-H", MANAGER, "version"], capture_output=True, text=True, timeout=30
    )
    assert unverified.returncode != 0  # 2376 without the bundle's certificates gets nothing


def test_the_registries_hold_the_stand_ins_and_one_asks_for_a_login(three_nodes):
    context = ssl.create_default_context(cafile=str(Path(three_nodes["pki"]) / "ca.pem"))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    with opener.open("https://192.168.250.1:5000/v2/_catalog", timeout=5) as answer:
        assert json.loads(answer.read())["repositories"] == [
            "overlay-portal/tools",
            "tutorial/mysql",
            "tutorial/wordpress",
        ]
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open("https://192.168.250.1:5001/v2/_catalog", timeout=5)
    assert refused.value.code == 401


def test_status_reports_healthy_nodes(three_nodes):
    status = json.loads(cluster("status", "--json").stdout)
    assert status["healthy"] is True
    assert [(n["name"], n["dockerd"], n["swarm_state"], n["consul_alive"]) for n in status["nodes"]] == [
        (f"node{i}", True, "ready", True) for i in (1, 2, 3)
    ]


def test_down_leaves_no_namespace_bridge_veth_mount_or_daemon(three_nodes):
    cluster("down")
    assert leftovers() == {"namespaces": [], "links": [], "processes": [], "mounts": []}
    assert not CLUSTER_FILE.exists()
    status = subprocess.run([str(TOOL), "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 1


def test_up_after_down_brings_back_the_default_two_node_cluster():
    cluster("up")
    assert sorted(n["Hostname"] for n in swarm_nodes()) == ["node1", "node2"]
    assert len(json.loads(CLUSTER_FILE.read_text())["nodes"]) == 2
    assert sorted(m["Status"] for m in consul_members()) == [1, 1]
