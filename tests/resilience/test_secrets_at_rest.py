"""A container run with a secret, held back (no worker runs): the value is nowhere in clear, neither
in the database nor in the task queue, yet the worker's keys open it."""

from __future__ import annotations

import pytest
import redis
import requests
from django.db import connection

from networks.models import Container
from networks.sealing import environment_open
from portal.actors import Actor
from portal.services import api_token_create
from tests.factories import make_team
from tests.resilience.processes import OwnRedis, WebServer, redis_everything

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "my-root-pw-4f1c9a"


def every_value_in_the_database() -> str:
    """Every column of every row of every table the database has (binary columns read as text), one
    value a line: whatever a later table or column holds is searched too."""
    quote = connection.ops.quote_name
    values = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)}")  # noqa: S608 - names from the catalogue
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("utf-8", "replace")
                    values.append(str(value))
    assert len(tables) > 20, tables  # the portal's tables, Django's, the audit log's: not a hand-picked few
    return "\n".join(values)


def test_a_held_back_run_keeps_its_secret_sealed_in_the_database_and_out_of_the_queue(tmp_path):
    own_redis = OwnRedis(tmp_path)
    own_redis.start()
    url = own_redis.url()
    web = WebServer(tmp_path, env={"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url})
    try:
        web.start()
        team = make_team()
        key = api_token_create(actor=Actor.system("tests"), user=team.member, name="secrets")[1]
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
        stored = every_value_in_the_database()
        assert "wordpress" in stored  # the search reaches the run's environment, where a plain value is
        assert SECRET not in stored
        assert SECRET not in web.log_path.read_text()

        container = Container.objects.get(pk=response.json()["container"])
        assert "wordpress" in repr(container.environment)  # plain values stay as they were
        assert environment_open(container.environment)["MYSQL_ROOT_PASSWORD"] == SECRET  # a worker can open it
    finally:
        web.stop()
        own_redis.stop()
