"""The world of the portal a benchmark serves (bench/served.py): a fresh database with the demo team, the
bench's user and the local cluster (`prepare`), when the portal has nothing left to do (`settle`), and the
cluster left as it was found (`leave`).
Import after django.setup()."""

from __future__ import annotations

import os
import subprocess
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command

from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Cluster, Operation
from networks.services import queue
from portal.actors import Actor
from portal.celery import app as celery_app
from portal.models import Membership, Tenant
from portal.services import api_token_create, membership_set


def prepare(*, redis_db: int, username: str, password: str) -> tuple[Tenant, Cluster, object, str]:
    """The demo team owned by a new user, the local cluster registered for it (its bundle, over mutual TLS),
    and an API token of the user's: (team, cluster, user, token)."""
    # A database of the bench's own, new each run: messages an earlier run left in its Redis name rows that are gone.
    subprocess.run(["redis-cli", "-n", str(redis_db), "flushdb"], check=True, capture_output=True)
    call_command("migrate", verbosity=0)
    call_command("demo_setup", verbosity=0)
    user = get_user_model().objects.create_user(username=username, password=password)
    tenant = Tenant.objects.get(slug="demo")
    membership_set(tenant=tenant, user=user, role=Membership.Role.OWNER)
    call_command("cluster_register", tenant="demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    cluster = Cluster.objects.get()
    return tenant, cluster, user, api_token_create(actor=Actor.command(), user=user, name="bench")[1]


def settle(quiet: float = 1.0, longest: float = 120, *, logs: str = "var/") -> None:
    """Wait until the portal has nothing left to do for `quiet` seconds in a row: its worker is up, no
    operation is unfinished, and no task waits in the queue or in the worker (the events follower's
    follow-ups of networks made outside it among them, and their retries' countdowns)."""
    deadline, calm_since = time.monotonic() + longest, None
    while time.monotonic() < deadline:
        busy = (
            not celery_app.control.ping(timeout=1.0, limit=1)
            or Operation.objects.unfinished().exists()
            or bool(queue.waiting_task_ids())
            or bool(queue.held_task_ids())
        )
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        time.sleep(0.1)
    raise SystemExit(f"The portal still had work to do after {longest:.0f} s; see {logs}worker.log.")


def leave(cluster: Cluster, *, containers_named: str = "") -> None:
    """The portal's containers and networks (by its label), containers whose name holds `containers_named`,
    the cluster's Consul keys and the portal's Consul services removed: the cluster as it was found."""
    label = f"overlay-portal.cluster={cluster.uid}"
    for node in cluster.nodes.all():
        client = docker_engine.client(node.docker)
        if containers_named:
            for container in client.containers.list(all=True, filters={"name": containers_named}):
                container.remove(force=True)
        for container in client.containers.list(all=True, filters={"label": label}):
            container.remove(force=True)
    for attrs in docker_engine.find_networks(cluster.docker, labels=[label]):
        docker_engine.remove_network(cluster.docker, attrs["Id"])
    consul_engine.kv_delete(cluster.consul, cluster.consul_prefix, recurse=True)
    for node in cluster.nodes.all():
        agent = f"http://{node.address}:8500"
        for service_id in consul_engine.services(agent):
            if service_id.startswith(f"overlay-portal-{cluster.uid}-"):
                consul_engine.service_deregister(agent, service_id)
