"""A cluster's private key and Consul token, given through the portal's page, the admin and the API, are
nowhere in clear afterwards: not in any column of any table, not in the web's or the worker's log, not
in the task messages (every command Redis ran, message bodies decoded) nor in the results.

Real processes on a Redis of the test's own: gunicorn, a worker, Redis under MONITOR. The endpoint
answers nothing (the worker opens the key and tries), and a cluster recorded with the key (as a
successful registration leaves it) is tested and rotated through the worker too.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
import redis
import requests
from django.db import connection

from networks.models import Cluster
from networks.services.clusters.registration import cluster_record
from portal.actors import Actor
from portal.services import api_token_create
from tests.cluster_inputs import key_body
from tests.factories import PASSWORD, found_swarm, made_bundle, make_staff, make_team
from tests.resilience.processes import (
    BrokerWorker,
    OwnRedis,
    RedisMonitor,
    WebServer,
    redis_everything,
    with_base64_decoded,
)
from tests.support import bundle_zip

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TOKEN = "consul-acl-token-at-rest-93c0e1"
UNREACHABLE = "Nothing answers at tcp://127.0.0.1:9"


def every_row() -> str:
    """Every row of every table, every column."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - the schema's own names
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def logged_in(web: WebServer, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{web.base}/login/", timeout=30)
    answer = session.post(
        f"{web.base}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:2000]
    return session


def form_post(session: requests.Session, url: str, data: dict, zipped: bytes) -> requests.Response:
    session.get(url, timeout=30)
    return session.post(
        url,
        data={**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        files={"bundle": ("carina.zip", zipped, "application/zip")},
        timeout=90,
    )


def test_keys_and_tokens_given_on_every_surface_are_nowhere_in_clear(tmp_path):
    bundle = dataclasses.replace(made_bundle(days=29), consul_token=TOKEN)  # a key of this test's own
    secrets = [*key_body(bundle), TOKEN]
    zipped = bundle_zip(bundle)
    own_redis = OwnRedis(tmp_path)
    own_redis.start()
    url = own_redis.url()
    monitor = RedisMonitor(url)
    monitor.start()
    worker = BrokerWorker(tmp_path, url)
    web = WebServer(tmp_path, env={"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url})
    try:
        worker.start()
        web.start()
        team = make_team()
        staff = make_staff("secrets-staff")
        key = api_token_create(actor=Actor.system("tests"), user=staff, name="secrets")[1]
        api = {"Authorization": f"Token {key}"}
        answers = []

        # the API: the zip (multipart), then the parts as JSON
        answers.append(
            requests.post(
                f"{web.base}/api/v1/clusters/",
                headers=api,
                data={"name": "api-zip", "tenant": team.tenant.slug, "consul_token": TOKEN},
                files={"bundle": ("carina.zip", zipped, "application/zip")},
                timeout=90,
            )
        )
        parts = {"docker_host": bundle.docker_host, "ca_pem": bundle.tls.ca_pem, "cert_pem": bundle.tls.cert_pem}
        answers.append(
            requests.post(
                f"{web.base}/api/v1/clusters/",
                headers=api,
                json={"name": "api-json", "tenant": team.tenant.slug, **parts, "key_pem": bundle.tls.key_pem},
                timeout=90,
            )
        )
        # the portal's page and the admin's add page
        session = logged_in(web, staff.username)
        fields = {"tenant": str(team.tenant.pk), "name": "on-a-page", "consul_token": TOKEN}
        answers.append(form_post(session, f"{web.base}/clusters/register/", fields, zipped))
        answers.append(form_post(session, f"{web.base}/admin/networks/cluster/add/", fields, zipped))
        for answer in answers:
            assert answer.status_code == 400 and UNREACHABLE in answer.text, answer.text[:2000]

        # a cluster recorded with the key, as a registration that reached its swarm leaves it:
        # a worker opens the key to test it, and a rotation sends the key (sealed) to a worker again
        cluster = cluster_record(
            tenant=team.tenant, found=found_swarm(swarm_id="swarm-secrets"), bundle=bundle, name="kept"
        )
        answers.append(requests.post(f"{web.base}/api/v1/clusters/{cluster.pk}/test/", headers=api, timeout=120))
        assert answers[-1].json()["message"].startswith(UNREACHABLE), answers[-1].text
        answers.append(
            requests.post(
                f"{web.base}/api/v1/clusters/{cluster.pk}/credentials/",
                headers=api,
                data={"consul_token": TOKEN},
                files={"bundle": ("carina.zip", zipped, "application/zip")},
                timeout=90,
            )
        )
        assert answers[-1].status_code == 400 and UNREACHABLE in answers[-1].text
        answers.append(session.get(f"{web.base}/clusters/{cluster.pk}/", timeout=30))
        answers.append(session.get(f"{web.base}/admin/networks/cluster/{cluster.pk}/change/", timeout=30))
        answers.append(requests.get(f"{web.base}/api/v1/audit/", headers=api, timeout=30))
    finally:
        web.stop()
        worker.stop()
        traffic = with_base64_decoded(monitor.stop())
        stored = redis_everything(redis.Redis.from_url(url))
        own_redis.stop()

    rows = every_row()
    places = {
        "answers": "\n".join(answer.text for answer in answers),
        "database": rows,
        "web log": web.log_path.read_text(),
        "worker log": worker.log_path.read_text(),
        "task messages (every Redis command)": traffic,
        "Redis afterwards (results)": stored,
    }
    for place, text in places.items():
        found = [secret[:20] for secret in secrets if secret in text]
        assert not found, f"in clear in the {place}: {found}"

    # The checks looked where the secrets went: the messages carried the key sealed, the results came back,
    # and the database holds it sealed, which a worker can open.
    assert "networks.cluster_connect" in traffic and "networks.cluster_test" in traffic
    assert re.search(r'"key_sealed": "gAAAA', traffic), "the task messages' bodies were not decoded"
    assert "celery-task-meta-" in stored
    kept = Cluster.objects.get(pk=cluster.pk)
    assert kept.tls_key_sealed and kept.tls_key_sealed in rows and kept.consul_token_sealed in rows
    assert kept.tls.key_pem == bundle.tls.key_pem and kept.consul.token == TOKEN
