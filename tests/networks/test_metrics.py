"""GET /metrics: who may scrape it, and every family with the values of rows made here.

The queue's length is read from a redis-server this module starts on a free port (and stops), so
nothing is pushed onto the queue a test worker takes from.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
import redis
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from networks.models import Container, Node, Operation
from networks.services import queue
from plumbing.unanswered import Unanswered
from tests.factories import make_network, make_operation, make_system_container

pytestmark = pytest.mark.django_db

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}
OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}


def scrape(client, **extra) -> dict:
    response = client.get("/metrics", **{**LOCAL, **extra})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def value(families: dict, name: str, sample: str | None = None, **labels) -> float:
    family = families[name]
    found = [s.value for s in family.samples if s.name == (sample or name) and labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, family.samples)
    return found[0]


# --- who may scrape ---------------------------------------------------------------------------


def test_only_allowed_addresses_or_the_token_may_scrape(client, settings, db):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", **LOCAL).status_code == 200
    refused = client.get("/metrics", **OUTSIDE)
    assert refused.status_code == 403 and b"METRICS_ALLOWED_IPS" in refused.content
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret", **OUTSIDE).status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **OUTSIDE).status_code == 403
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **LOCAL).status_code == 403
    )  # a wrong token is wrong
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token scrape-secret", **OUTSIDE).status_code == 403


def test_without_a_token_configured_no_bearer_opens_it(client, settings, db):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", **OUTSIDE).status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer", **OUTSIDE).status_code == 403


def test_allowed_addresses_take_networks(client, settings, db):
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16", "not an address"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", **LOCAL).status_code == 403


def test_behind_the_proxy_the_clients_address_decides_not_the_proxys(client, settings, db):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.5", **LOCAL).status_code == 403
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1", **LOCAL).status_code == 200


# --- what it says -----------------------------------------------------------------------------


def finished(team, kind, status, seconds: float, **fields) -> Operation:
    operation = make_operation(team, kind, status=status, error="It failed." if status == "failed" else "", **fields)
    started = timezone.now() - timedelta(minutes=10)
    Operation.objects.filter(pk=operation.pk).update(started=started, finished=started + timedelta(seconds=seconds))
    return operation


def test_operations_by_kind_and_status_and_their_durations(client, team):
    create, run = Operation.Kind.NETWORK_CREATE, Operation.Kind.CONTAINER_RUN
    finished(team, create, "succeeded", 0.2)
    finished(team, create, "succeeded", 3)
    finished(team, create, "failed", 45)
    make_operation(team, create, status="queued")
    make_operation(team, run, status="running")
    families = scrape(client)

    assert value(families, "overlay_portal_operations", kind="network.create", status="succeeded") == 2
    assert value(families, "overlay_portal_operations", kind="network.create", status="failed") == 1
    assert value(families, "overlay_portal_operations", kind="network.create", status="queued") == 1
    assert value(families, "overlay_portal_operations", kind="container.run", status="running") == 1
    assert value(families, "overlay_portal_operations", kind="container.remove", status="succeeded") == 0
    assert value(families, "overlay_portal_operations_unfinished") == 2

    name = "overlay_portal_operation_duration_seconds"
    ok = {"kind": "network.create", "outcome": "succeeded"}
    assert value(families, name, f"{name}_bucket", le="0.5", **ok) == 1
    assert value(families, name, f"{name}_bucket", le="5.0", **ok) == 2
    assert value(families, name, f"{name}_bucket", le="+Inf", **ok) == 2
    assert value(families, name, f"{name}_count", **ok) == 2
    assert value(families, name, f"{name}_sum", **ok) == pytest.approx(3.2)
    failed = {"kind": "network.create", "outcome": "failed"}
    assert value(families, name, f"{name}_bucket", le="30.0", **failed) == 0
    assert value(families, name, f"{name}_bucket", le="60.0", **failed) == 1


def test_clusters_health_nodes_consul_agents_and_pool_usage(client, team):
    labels = {"cluster_id": str(team.cluster.pk), "cluster": team.cluster.name}
    make_system_container(team, "node1")
    make_system_container(team, "node2")
    for name in ("web", "db", "cache"):
        make_network(team, name)
    families = scrape(client)
    assert value(families, "overlay_portal_cluster_healthy", **labels) == 1
    assert value(families, "overlay_portal_cluster_nodes", **labels) == 2
    assert value(families, "overlay_portal_cluster_nodes_ready", **labels) == 2
    assert value(families, "overlay_portal_consul_agents", **labels) == 2
    assert value(families, "overlay_portal_consul_agents_alive", **labels) == 2
    # The pool 10.0.0.0/8 in /24s: 65,536 blocks; ServiceNet 10.176.224.0/19 reserves 32 of them.
    assert value(families, "overlay_portal_pool_blocks_total", **labels) == 65_536
    assert value(families, "overlay_portal_pool_blocks", state="used", **labels) == 3
    assert value(families, "overlay_portal_pool_blocks", state="reserved", **labels) == 32
    assert value(families, "overlay_portal_pool_blocks", state="free", **labels) == 65_536 - 35

    Node.objects.filter(cluster=team.cluster, name="node2").update(state=Node.State.DOWN)
    Container.objects.filter(cluster=team.cluster, name="op-consul-node2").update(status=Container.Status.EXITED)
    families = scrape(client)
    assert value(families, "overlay_portal_cluster_healthy", **labels) == 0
    assert value(families, "overlay_portal_cluster_nodes_ready", **labels) == 1
    assert value(families, "overlay_portal_consul_agents_alive", **labels) == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, on a free port; stopped afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url, client
    server.terminate()
    server.wait(timeout=10)


def test_the_queue_length_is_read_from_the_broker(client, settings, own_redis, db):
    url, broker = own_redis
    settings.CELERY_BROKER_URL = url
    broker.rpush("celery", "task-1", "task-2", "task-3")
    families = scrape(client)
    assert value(families, "overlay_portal_broker_up") == 1
    assert value(families, "overlay_portal_queue_length") == 3
    assert value(families, "overlay_portal_workers_running") == 0  # nothing takes them: the figure to alert on
    writes = Unanswered(broker.connection_pool)
    for worker in ("celery@a", "celery@b"):  # as each running worker records itself (networks/held_tasks.py)
        queue.held_publish(writes=writes, worker=worker, task_ids=["task-1"])
    writes.collect()
    broker.delete(queue.HELD_KEY_PREFIX + "celery@b")  # the second stopped: its record expired
    assert value(scrape(client), "overlay_portal_workers_running") == 1


def test_a_broker_that_does_not_answer_is_a_zero_not_an_error(client, settings, db):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    families = scrape(client)
    assert value(families, "overlay_portal_broker_up") == 0
    assert "overlay_portal_queue_length" not in families
    assert value(families, "overlay_portal_operations_unfinished") == 0


def test_network_utilization_and_grant_usage_against_limits(client, team):
    network = make_network(team, "metered", subnet="10.0.42.0/29")  # the gateway: 1 of 6
    grant = team.cluster.grants.get(tenant=team.tenant)
    grant.max_networks = 5
    grant.save()
    families = scrape(client)
    labels = {"cluster": team.cluster.name, "tenant": team.tenant.slug}
    assert value(families, "overlay_portal_network_utilization", network=network.name, **labels) == pytest.approx(1 / 6)
    assert value(families, "overlay_portal_grant_used", resource="networks", **labels) == 1
    assert value(families, "overlay_portal_grant_limit", resource="networks", **labels) == 5
    assert not [s for s in families["overlay_portal_grant_limit"].samples if s.labels["resource"] == "containers"], (
        "no limit set, none reported"
    )
