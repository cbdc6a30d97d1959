"""A container run with a secret, held back (no worker runs): the value is nowhere in clear, neither
in the database nor in the task queue, yet the worker's keys open it."""

from __future__ import annotations

import pytest
import redis
import requests
from django.db import connection

from networks.models import Container
from networks.sealing import environment_open
from portal.services import api_token_create
from tests.pages import make_team
from tests.resilience.processes import OwnRedis, WebServer, redis_everything

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "my-root-pw-4f1c9a"


def _every_row() -> str:
    with connection.cursor() as cursor:
        rows = []
        for table in ("networks_container", "networks_operation", "portal_idempotencyrecord"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def test_a_held_back_run_keeps_its_secret_sealed_in_the_database_and_out_of_the_queue(tmp_path):
    own_redis = OwnRedis(tmp_path)
    own_redis.start()
    url = own_redis.url()
    web = WebServer(tmp_path, env={"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url})
    try:
        web.start()
        team = make_team()
        key = api_token_create(user=team.member, name="secrets")[1]
        response = requests.post(
            f"{web.base}/api/v1/containers/",
            headers={"Authorization": f"Token {key}", "Idempotency-Key": "held-back-run"},
            json={
                "name": "mysql",
                "image": "overlay-portal/tools:latest",
                "environment": [
                    {"name": "MYSQL_DATABASE", "value": "wordpress"},
                    {"name": "MYSQL_ROOT_PASSWORD", "value": SECRET, "secret": True},
                ],
            },
            timeout=60,
        )
        assert response.status_code == 202, response.text[:2000]
        assert SECRET not in response.text

        queue = redis_everything(redis.Redis.from_url(url))
        assert "networks.run_operation" in queue  # the run's message is there, held back: no worker
        assert SECRET not in queue
        assert SECRET not in _every_row()
        assert SECRET not in web.log_path.read_text()

        container = Container.objects.get(pk=response.json()["container"])
        assert "wordpress" in repr(container.environment)  # plain values stay as they were
        assert environment_open(container.environment)["MYSQL_ROOT_PASSWORD"] == SECRET  # a worker can open it
    finally:
        web.stop()
        own_redis.stop()
