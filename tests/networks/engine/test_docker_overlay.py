"""The foundation's end-to-end check: an overlay network carries DNS and HTTP between nodes."""

import uuid

import pytest

from networks import labels as docker_labels
from networks.engine import docker as engine
from tests.support import wait_until

pytestmark = pytest.mark.cluster


def test_container_on_node2_resolves_and_fetches_from_node1(cluster_description):
    nodes = cluster_description["nodes"]
    assert len(nodes) >= 2, "the local cluster must have at least two nodes"
    manager, node1, node2 = nodes[0]["docker_socket"], nodes[0]["docker_socket"], nodes[1]["docker_socket"]
    tools = cluster_description["images"]["tools"]
    suffix = uuid.uuid4().hex[:8]
    net_name, web, client = f"e2e-{suffix}", f"web-{suffix}", f"client-{suffix}"
    labels = {docker_labels.MANAGED: "test"}

    network = engine.create_overlay_network(
        manager, net_name, subnet="10.250.7.0/24", gateway="10.250.7.1", labels=labels
    )
    try:
        assert network["Driver"] == "overlay"
        assert network["IPAM"]["Config"][0]["Subnet"] == "10.250.7.0/24"
        engine.run_container(
            node1,
            name=web,
            image=tools,
            network=net_name,
            labels=labels,
            command=["sh", "-c", f"echo hello-from-{web} > /tmp/index.html && exec httpd -f -p 80 -h /tmp"],
        )
        engine.run_container(node2, name=client, image=tools, network=net_name, labels=labels, command=["sleep", "600"])

        code, output = engine.exec_in_container(node2, client, ["nslookup", web])
        assert code == 0, output
        assert "10.250.7." in output

        for _ in range(20):
            code, output = engine.exec_in_container(node2, client, ["timeout", "3", "wget", "-qO-", f"http://{web}/"])
            if code == 0:
                break
        assert code == 0, output
        assert f"hello-from-{web}" in output
    finally:
        engine.remove_container(node2, client)
        engine.remove_container(node1, web)
        engine.remove_network(manager, net_name)

    # Swarm removes networks asynchronously: the manager stops listing it within seconds.
    wait_until(lambda: engine.find_networks(manager, name=net_name) == [], timeout=30)
