"""The task queue can come and go: a Redis the test starts on a free port is stopped and started
again under a real worker and a real web server (gunicorn)."""

from __future__ import annotations

import time

import pytest
import redis
import requests

from networks.models import Cluster, Network, Node, Operation
from portal.actors import Actor
from portal.services import api_token_create
from tests.factories import make_team
from tests.resilience.processes import BrokerWorker, OwnRedis, WebServer, celery_on, free_port
from tests.support import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAITING_FOR_QUEUE = (
    "Waiting for the task queue: it does not answer. The operation is sent to a worker as soon as it does; "
    "nothing to do meanwhile."
)


@pytest.fixture
def own_redis(tmp_path):
    redis = OwnRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def worker(own_redis, tmp_path):
    process = BrokerWorker(tmp_path, own_redis.url())
    process.start()
    yield process
    process.stop()


@pytest.fixture
def web(own_redis, tmp_path):
    url = own_redis.url()
    process = WebServer(tmp_path, env={"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url})
    process.start()
    yield process
    process.stop()


@pytest.fixture
def api(web):
    """POST and GET to the web server with a member's token; the team's cluster is only rows (nothing answers)."""
    team = make_team()
    key = api_token_create(actor=Actor.system("tests"), user=team.member, name="outage")[1]
    session = requests.Session()
    session.headers.update({"Authorization": f"Token {key}", "X-Tenant": team.tenant.slug})
    session.base = f"{web.base}/api/v1"
    return session


def test_the_worker_survives_a_broker_restart_and_still_runs_tasks(own_redis, worker):
    probe = celery_on(own_redis.url())
    assert probe.send_task("celery.accumulate", args=(1, 2)).get(timeout=30) == [1, 2]

    own_redis.stop()
    time.sleep(3)  # the worker notices (celery 5.7.0's worker exited here: AttributeError 'hostname')
    assert worker.process.poll() is None, worker.log_path.read_text()[-3000:]
    own_redis.start()
    back = time.monotonic()

    assert probe.send_task("celery.accumulate", args=(3, 4)).get(timeout=60) == [3, 4]
    print(f"worker ran a task {time.monotonic() - back:.1f} s after Redis was back")
    assert worker.process.poll() is None


def test_a_change_made_while_the_queue_is_down_is_answered_202_and_sent_when_it_is_back(own_redis, worker, api):
    own_redis.stop()
    asked = time.monotonic()
    response = api.post(f"{api.base}/networks/", json={"name": "while-down"}, timeout=60)
    answered = time.monotonic() - asked
    print(f"POST while the task queue was down answered {response.status_code} in {answered:.2f} s")

    assert response.status_code == 202, response.text[:2000]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "queued" and body["progress"][-1]["message"] == WAITING_FOR_QUEUE
    assert "task queue" in body["waiting_for"]
    operation = Operation.objects.get(pk=body["id"])
    assert operation.sent is None and Network.objects.get(pk=operation.network_id).status == Network.Status.CREATING
    # The page answers the same while the queue is down.
    again = api.get(f"{api.base}/operations/{operation.pk}/", timeout=30).json()
    assert "task queue" in again["waiting_for"]

    own_redis.start()
    back = time.monotonic()
    # No user action: the worker reconnects and sends the outbox; then it runs the operation.
    sent = wait_until(lambda: Operation.objects.filter(pk=operation.pk, sent__isnull=False).first(), timeout=90)
    print(f"outboxed operation sent {time.monotonic() - back:.1f} s after Redis was back")
    started = wait_until(
        lambda: (op := Operation.objects.get(pk=operation.pk)).attempts and op, timeout=90, interval=0.2
    )
    print(f"a worker took it {time.monotonic() - back:.1f} s after Redis was back: {started.last_message}")
    messages = [step["message"] for step in started.progress]
    assert "The task queue answers again; the operation is sent to a worker." in messages
    assert "Running." in messages and sent.celery_task_id


def test_a_queue_that_accepts_but_never_answers_holds_no_request(own_redis, worker, api):
    """A hung Redis (or a network that drops its packets) is not a refused connection: the kernel still
    accepts and nothing answers. The POST is answered as when the queue is down, not held until it thaws,
    and the operation is sent once the queue answers again; the worker comes through it."""
    own_redis.freeze()
    try:
        asked = time.monotonic()
        response = api.post(f"{api.base}/networks/", json={"name": "while-frozen"}, timeout=45)
        answered = time.monotonic() - asked
        page = api.get(f"{api.base}/operations/{response.json()['id']}/", timeout=45) if response.ok else None
    finally:
        own_redis.thaw()
    print(f"POST while the task queue was frozen answered {response.status_code} in {answered:.2f} s")

    assert response.status_code == 202, response.text[:2000]
    body = response.json()
    assert body["status"] == "queued" and body["progress"][-1]["message"] == WAITING_FOR_QUEUE
    assert page is not None and page.status_code == 200 and "task queue" in page.json()["waiting_for"]
    assert Operation.objects.get(pk=body["id"]).sent is None

    started = wait_until(lambda: (op := Operation.objects.get(pk=body["id"])).attempts and op, timeout=120)
    assert started.sent is not None and "Running." in [step["message"] for step in started.progress]
    assert worker.process.poll() is None, worker.log_path.read_text()[-3000:]


def test_a_queued_message_the_queue_lost_is_sent_again(own_redis, worker, api):
    """Sent, then lost: the worker was away and the task queue restarted without its data."""
    worker.stop()
    body = api.post(f"{api.base}/networks/", json={"name": "lost-message"}, timeout=60).json()
    operation = Operation.objects.get(pk=body["id"])
    assert operation.sent is not None and operation.status == Operation.Status.QUEUED
    own_redis.stop()
    own_redis.start()  # no persistence: the message is gone

    worker.start()
    started = wait_until(lambda: (op := Operation.objects.get(pk=operation.pk)).attempts and op, timeout=120)
    messages = [step["message"] for step in started.progress]
    assert any(message.startswith("Its message was lost") for message in messages), messages
    assert started.celery_task_id != operation.celery_task_id


def test_a_queued_operation_held_by_a_worker_killed_with_9_goes_to_the_next_worker(own_redis, worker, api):
    """Waiting for the cluster, its retry's message sits in the worker (and in Redis' unacked, until the
    600 s visibility timeout): when the worker group dies, the next worker hands it over."""
    refused = f"127.0.0.1:{free_port()}"  # nothing listens: every call is refused at once
    Cluster.objects.update(docker_endpoint=f"tcp://{refused}", consul_address=f"http://{refused}")
    Node.objects.update(docker_endpoint=f"tcp://{refused}")
    body = api.post(f"{api.base}/networks/", json={"name": "held"}, timeout=60).json()
    waiting = wait_until(
        lambda: (op := Operation.objects.get(pk=body["id"])).last_message.startswith("Waiting for the cluster") and op,
        timeout=60,
    )
    assert waiting.status == Operation.Status.QUEUED

    worker.kill()  # the whole group, -9
    assert redis.Redis.from_url(own_redis.url()).hlen("unacked") >= 1  # the retry's message is stranded there
    worker.start()
    started = time.monotonic()
    handed = wait_until(
        lambda: (op := Operation.objects.get(pk=body["id"])).celery_task_id != waiting.celery_task_id and op,
        timeout=120,
    )
    print(f"queued operation handed over {time.monotonic() - started:.1f} s after the new worker was ready")
    assert any(step["message"].startswith("Its message was lost") for step in handed.progress)
    wait_until(lambda: Operation.objects.get(pk=body["id"]).attempts > waiting.attempts, timeout=60)
