"""The portal's PostgreSQL connections cut twice during 20 concurrent creates, as a failover or a
restart does: the web server (gunicorn with its connection pool) and the worker wait it out.

Only the connections to this test's own database are cut (`datname = current_database()`), so the
other test sessions on the machine are not hit. The web server is a real gunicorn on a free port; the
worker is the session's real worker; the cluster is the real local one.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.db import connection

from networks.engine import docker as docker_engine
from networks.models import Network, Operation
from networks.services.grants import cluster_grant
from portal.actors import Actor
from portal.services import api_token_create, tenant_create
from tests.factories import PASSWORD, add_users
from tests.resilience.processes import WebServer
from tests.support import first_team, wait_until

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.worker,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="cutting the database's connections needs PostgreSQL: run with DATABASE_URL=postgres://...",
    ),
]

CREATES = 20
READS = 40


class PooledWebServer(WebServer):
    """gunicorn as scripts/serve runs it: threads sharing a pool of PostgreSQL connections per process."""

    def __init__(self, log_dir):
        super().__init__(log_dir, env={"DATABASE_POOL_SIZE": "4"})

    def command(self) -> list[str]:
        return [*super().command(), "--worker-class", "gthread", "--threads", "8"]


@pytest.fixture
def web(celery_worker_process, tenant_cluster, tmp_path):
    process = PooledWebServer(tmp_path)
    process.start()
    yield process
    process.stop()


def api_session(web, member) -> requests.Session:
    tenant = member.memberships.get().tenant
    session = requests.Session()
    session.headers.update(
        {
            "Authorization": f"Token {api_token_create(actor=Actor.system('tests'), user=member, name='cut')[1]}",
            "X-Tenant": tenant.slug,
        }
    )
    session.base = f"{web.base}/api/v1"
    return session


def browser_session(web, member) -> requests.Session:
    """Logged in through the login form, as a browser is."""
    session = requests.Session()
    session.get(f"{web.base}/login/", timeout=30)
    answer = session.post(
        f"{web.base}/login/",
        data={"username": member.username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:2000]
    return session


def cut_connections() -> int:
    """Terminate every other connection to this test's database: the web's pool's and the worker's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def create(api: requests.Session, name: str, *, idempotent: bool) -> requests.Response:
    headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotent else {}
    return api.post(f"{api.base}/networks/", json={"name": name}, headers=headers, timeout=60)


def unexpected(response: requests.Response) -> str | None:
    """What is wrong with an answer given during the cut: a 500, or a 503 not in the API's shape (a page's
    503 is a short HTML page)."""
    if response.status_code >= 500 and response.status_code != 503:
        return f"{response.status_code}: {response.text[:300]}"
    if response.status_code == 503 and "/api/" not in response.url:
        if not response.headers["Content-Type"].startswith("text/html") or "Retry-After" not in response.headers:
            return f"503 page without Retry-After: {response.headers} {response.text[:300]}"
    elif response.status_code == 503:
        body = response.json() if response.headers["Content-Type"].startswith("application/json") else None
        if not body or set(body["error"]) != {"code", "message", "field"} or "Retry-After" not in response.headers:
            return f"503 not in the API's shape: {response.headers} {response.text[:300]}"
    return None


def own_address_pool(cluster) -> None:
    """A pool of this run's own: other test sessions share the local swarm and its Consul reservations,
    and each of their portals starts at the first free block of the default pool (10.0.0.0/16), so the
    same blocks were taken "by another writer" while this ran. The cut is what this test is about."""
    cluster.address_pool = f"10.{random.randint(128, 250)}.0.0/16"
    cluster.allocation_floor = None
    cluster.save(update_fields=["address_pool", "allocation_floor"])


def test_connections_cut_twice_during_twenty_creates_are_waited_out(tenant_cluster, web):
    cluster = tenant_cluster
    own_address_pool(cluster)
    team = first_team(cluster)
    other = tenant_create(name=f"Team {uuid.uuid4().hex[:6]}")
    cluster_grant(actor=Actor.system("tests"), cluster=cluster, tenant=other)
    member = add_users(team, f"{team.slug}-cut")[1]
    api, browser = api_session(web, member), browser_session(web, member)
    other_api = api_session(web, add_users(other, f"{other.slug}-cut")[1])
    connection.close()

    reads: list[requests.Response] = []
    stop_reading = threading.Event()

    def read_while_cut():
        while not stop_reading.is_set():
            reads.append(api.get(f"{api.base}/networks/", timeout=60))
            reads.append(browser.get(f"{web.base}/networks/", timeout=60))

    reader = threading.Thread(target=read_while_cut)
    reader.start()
    cuts = []
    with ThreadPoolExecutor(max_workers=CREATES) as pool:
        futures = [pool.submit(create, api, f"cut{i}", idempotent=i % 2 == 0) for i in range(CREATES)]
        for pause in (0.3, 1.0):
            time.sleep(pause)
            cuts.append(cut_connections())
        last_cut = time.monotonic()
        answers = [future.result() for future in futures]
    time.sleep(2)  # the reads go on a little after the cut
    stop_reading.set()
    reader.join()

    by_status = Counter(answer.status_code for answer in answers)
    reads_by_status = Counter(f"{'api' if '/api/' in read.url else 'page'} {read.status_code}" for read in reads)
    print(f"\nconnections cut: {cuts}; creates answered {dict(by_status)}; reads meanwhile {dict(reads_by_status)}")
    wrong = [problem for answer in [*answers, *reads] if (problem := unexpected(answer))]
    assert not wrong, wrong

    accepted = [answer.json()["id"] for answer in answers if answer.status_code == 202]
    assert accepted, "no create was accepted"

    def all_finished() -> bool:
        return not Operation.objects.filter(pk__in=accepted).unfinished().exists()

    wait_until(all_finished, timeout=60, interval=0.2)
    print(f"all {len(accepted)} accepted creates finished {time.monotonic() - last_cut:.1f} s after the last cut")
    failed = list(
        Operation.objects.filter(pk__in=accepted)
        .exclude(status=Operation.Status.SUCCEEDED)
        .values_list("target", "error_code", "error")
    )
    assert not failed, failed

    # Every network in Docker with the cluster's label is one the portal holds as live, once the portal
    # has nothing in flight (a create answered 503 may have been recorded: then it is made too).
    wait_until(lambda: not Operation.objects.filter(cluster=cluster).unfinished().exists(), timeout=60)
    held = set(Network.objects.filter(cluster=cluster).live().exclude(docker_id="").values_list("docker_id", flat=True))
    made = docker_engine.find_networks(cluster.docker, labels=[f"overlay-portal.cluster={cluster.uid}"])
    strays = [(network["Name"], network["Labels"]) for network in made if network["Id"] not in held]
    assert not strays, f"networks in Docker the portal does not hold: {strays}"

    # Both teams create again at once, and both creates succeed.
    with ThreadPoolExecutor(max_workers=2) as pool:
        again = list(
            pool.map(
                lambda pair: create(pair[0], pair[1], idempotent=False),
                [(api, "after-one"), (other_api, "after-other")],
            )
        )
    assert [answer.status_code for answer in again] == [202, 202], [answer.text[:300] for answer in again]
    ids = [answer.json()["id"] for answer in again]
    wait_until(lambda: not Operation.objects.filter(pk__in=ids).unfinished().exists(), timeout=60)
    done = Operation.objects.filter(pk__in=ids)
    assert [operation.status for operation in done] == ["succeeded"] * 2, [operation.error for operation in done]

    with ThreadPoolExecutor(max_workers=8) as pool:
        after = list(
            pool.map(
                lambda read: read[0].get(read[1], timeout=60),
                [
                    (api, f"{api.base}/networks/"),
                    (other_api, f"{api.base}/operations/"),
                    (browser, f"{web.base}/networks/"),
                    (browser, f"{web.base}/operations/"),
                ]
                * (READS // 4),
            )
        )
    print(f"{READS} reads right after: {dict(Counter(read.status_code for read in after))}")
    assert [read.status_code for read in after] == [200] * READS
