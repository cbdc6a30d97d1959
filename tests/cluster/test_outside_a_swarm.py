"""Registering through an engine that is in no swarm: node2 leaves the swarm for the test, then joins
it again. It rebuilds part of the cluster, so it runs with the cluster tool's tests, last."""

import json
import subprocess
from pathlib import Path

import pytest

from networks.bundles import Bundle, bundle_read
from networks.services.clusters.connect import cluster_connect
from plumbing.errors import ServiceError
from tests.support import wait_until

pytestmark = pytest.mark.cluster


def docker(node: dict, *args: str) -> str:
    socket = node["docker_socket"]
    return subprocess.run(
        ["/usr/bin/docker", "-H", socket, *args], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()


def test_an_engine_in_no_swarm_is_named(cluster_description):
    manager, node2 = cluster_description["nodes"][0], cluster_description["nodes"][1]
    bundle = bundle_read(Path(cluster_description["bundle"]).read_bytes())
    old_id = docker(node2, "info", "--format", "{{.Swarm.NodeID}}")
    docker(node2, "swarm", "leave", "--force")
    try:
        with pytest.raises(ServiceError) as refused:
            cluster_connect(Bundle(docker_host=node2["docker_endpoint"], tls=bundle.tls))
    finally:
        token = docker(manager, "swarm", "join-token", "-q", "worker")
        docker(node2, "swarm", "join", "--token", token, "--advertise-addr", node2["address"],
               "--listen-addr", f"{node2['address']}:2377", f"{manager['address']}:2377")  # fmt: skip
        wait_until(lambda: _ready(manager, "node2", old_id), timeout=60)
        docker(manager, "node", "rm", "--force", old_id)
    assert refused.value.code == "not_in_swarm"
    assert refused.value.message.startswith(
        f"The engine at {node2['docker_endpoint']} is not in a swarm (its swarm state is inactive)."
    )


def _ready(manager: dict, hostname: str, old_id: str) -> bool:
    rows = [json.loads(line) for line in docker(manager, "node", "ls", "--format", "{{json .}}").splitlines()]
    return any(r["Hostname"] == hostname and r["ID"] != old_id and r["Status"] == "Ready" for r in rows)
