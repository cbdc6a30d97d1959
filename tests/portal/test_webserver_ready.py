"""What a web process connects before it serves (portal/webserver.py `ready`, gunicorn's post_worker_init): the
task queue's producer connected with its queues declared (the prepared queries that lock, compiled in a
transaction: tests/plumbing/test_prepared.py); and a process whose database and task queue do not answer yet
starts all the same, then serves."""

from __future__ import annotations

import gc
import uuid

import pytest
import redis
import requests
from celery import Celery
from django.conf import settings

from portal.webserver import ready
from tests.factories import make_team
from tests.resilience.processes import OwnRedis, TcpRelay, WebServer, free_port
from tests.support import database_url


def portal_celery(**conf) -> Celery:
    """A Celery app of the portal's settings, its own pool of connections (none opened yet)."""
    app = Celery("ready", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(**conf)
    return app


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()  # `ready` freezes what the process holds; the test process goes on collecting as before


def test_the_task_queue_is_connected_and_its_queues_declared_before_the_first_send(unfrozen):
    app = portal_celery()
    ready(app)
    with app.producer_or_acquire() as producer:
        assert producer.connection.connected
        # what a send declares first (celery's send_task_message, `declare=[queue]`) was declared already
        assert {producer.maybe_declare(queue) for queue in app.amqp.queues.values()} == {False}


def test_a_task_queue_that_does_not_answer_is_logged_and_left_to_the_first_send(unfrozen, caplog):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = portal_celery(broker_read_url=nowhere, broker_write_url=nowhere)
    ready(app)
    assert any(
        record.getMessage().startswith("The task queue did not answer before this web process served")
        for record in caplog.records
    )
    with app.producer_or_acquire() as producer:
        assert not producer.connection.connected


class ServedAsScriptsServe(WebServer):
    """gunicorn as scripts/serve runs it (its hooks, threads sharing a pool of connections); ready once its
    process said that the database and the task queue did not answer before it served."""

    def command(self) -> list[str]:
        gunicorn, application = super().command()[:2]
        return [gunicorn, application, "-c", "python:portal.webserver", "--bind", f"127.0.0.1:{self.port}"] + [
            "--workers", "1", "--worker-class", "gthread", "--threads", "4"
        ]  # fmt: skip

    def ready(self) -> bool:
        said = self.log_path.read_text()
        return all(f"The {what} did not answer before this web process served" in said for what in WAITED_FOR)


WAITED_FOR = ("database", "task queue")


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the pool a web process opens before it serves is PostgreSQL's: run with DATABASE_URL=postgres://...",
)
@pytest.mark.django_db(transaction=True)
def test_a_web_process_whose_database_and_task_queue_are_not_up_yet_starts_and_then_serves(tmp_path):
    team = make_team("Late start", api=True)
    database = settings.DATABASES["default"]
    port = int(database.get("PORT") or 5432)
    # PostgreSQL behind a door shut until it opens: a database that is not up yet
    door, queue = TcpRelay((database.get("HOST") or "127.0.0.1", port)), OwnRedis(tmp_path)
    env = {
        "DATABASE_URL": database_url().replace(f":{port}/", f":{door.port}/"),
        "DATABASE_POOL_SIZE": "2",
        "CELERY_BROKER_URL": queue.url(),
        "CELERY_RESULT_BACKEND": queue.url(),
    }
    web = ServedAsScriptsServe(tmp_path, env=env)
    web.start()  # returns once the process said what did not answer
    try:
        door.open()
        queue.start()
        answer = requests.post(
            f"{web.base}/api/v1/networks/",
            json={"name": "late", "cluster": team.cluster.pk},
            headers={"Authorization": f"Token {team.keys['owner']}", "Idempotency-Key": uuid.uuid4().hex},
            timeout=60,
        )
        assert answer.status_code == 202, answer.text
        assert redis.Redis.from_url(queue.url()).llen("celery") == 1  # its message sent once the queue was up
    finally:
        web.stop()
        queue.stop()
        door.close()
