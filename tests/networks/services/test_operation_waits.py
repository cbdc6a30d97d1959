"""An operation says what it waits for: a Docker call with no answer for 5 s makes a running operation say
it waits for the cluster, and for how long (a field, not a message's wording). Meanwhile the worker keeps
the id of the task it runs in Redis, where lost-operation recovery reads it instead of asking by broadcast."""

import os
import re
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from networks.models import Cluster, ClusterGrant, Operation
from networks.selectors.operations import operation_waiting_for
from networks.services import queue
from networks.services.networks.create import network_create
from networks.tasks import operations_recover_task, operations_send_task
from portal.actors import Actor
from portal.celery import app as celery_app
from tests.support import first_team, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.worker]

MANAGER_PID_FILE = "/run/overlay-portal/node1/docker.pid"


def test_a_frozen_manager_makes_a_running_create_say_it_waits_for_the_cluster(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    manager_pid = int(open(MANAGER_PID_FILE).read())
    os.kill(manager_pid, signal.SIGSTOP)  # the manager hangs: the create call gets no answer
    try:
        operation = network_create(
            actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="patient"
        )
        waiting = wait_until(
            lambda: (op := Operation.objects.get(pk=operation.pk)).waits_on == Operation.WaitsOn.CLUSTER and op,
            timeout=30,
            interval=0.2,
        )
        said = operation_waiting_for(operation=Operation.objects.get(pk=operation.pk))
        held = queue.held_task_ids()
    finally:
        os.kill(manager_pid, signal.SIGCONT)

    assert waiting.status == Operation.Status.RUNNING, "it waits while it runs, not only between retries"
    messages = [p["message"] for p in waiting.progress]
    assert messages[-1] == "The cluster has not answered for 5 s; waiting for it."
    assert messages[-2].startswith("Creating overlay network patient on ")
    found = re.fullmatch(
        r"Waiting for the cluster to answer: no answer for (\d+) s \(since \d\d:\d\d:\d\d UTC\)\. The operation "
        r"goes on as soon as it answers; the worker keeps trying with growing pauses\.",
        said,
    )
    assert found and int(found.group(1)) >= 5, said
    assert waiting.celery_task_id in held, "the worker keeps the id of the task it runs in Redis"

    done = wait_for_operation(operation, timeout=120)
    assert done.status == Operation.Status.SUCCEEDED, done.error
    assert done.waits_on == Operation.WaitsOn.NOTHING and done.waiting_since is None
    assert operation_waiting_for(operation=done) == ""


def test_a_retry_waiting_in_a_live_worker_is_held_and_not_handed_over(celery_worker_process, tenant_cluster):
    cluster = Cluster.objects.create(
        name="refusing", docker_endpoint="tcp://127.0.0.1:9", consul_address="http://127.0.0.1:9"
    )
    ClusterGrant.objects.create(cluster=cluster, tenant=first_team(tenant_cluster))
    operation = network_create(actor=Actor.system("tests"), tenant=first_team(cluster), cluster=cluster, name="later")
    waiting = wait_until(
        lambda: (op := Operation.objects.get(pk=operation.pk)).status == Operation.Status.QUEUED
        and op.attempts >= 1
        and op,
        timeout=60,
    )
    try:
        # Its Consul (the first thing a create asks) refuses connections: it waits for the state store.
        assert waiting.waits_on == Operation.WaitsOn.STATE_STORE and waiting.waiting_since is not None
        # Its retry's message sits in the worker's timer for the countdown: the worker names it in Redis.
        assert waiting.celery_task_id in wait_until(queue.held_task_ids, timeout=10)
        long_ago = timezone.now() - timedelta(minutes=5)  # past recovery's grace period
        Operation.objects.filter(pk=operation.pk).update(sent=long_ago, updated=long_ago)
        assert operations_recover_task()["recovered"] == [], "a live worker holds it: nothing to hand over"
        assert Operation.objects.get(pk=operation.pk).celery_task_id == waiting.celery_task_id
    finally:
        Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.FAILED, error="test over")


def test_a_task_waiting_for_its_countdown_in_a_live_worker_stays_named_in_redis(celery_worker_process):
    later = operations_send_task.apply_async(countdown=120)  # harmless when it runs
    try:
        wait_until(lambda: later.id in queue.held_task_ids(), timeout=10)
        time.sleep(queue.HELD_REFRESH_SECONDS * 2)  # past the worker's next refreshes, which read its timer
        assert later.id in queue.held_task_ids()
    finally:
        celery_app.control.revoke(later.id)
