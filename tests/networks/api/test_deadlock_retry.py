"""A create that PostgreSQL chooses as a deadlock's victim is made again, from the page and from the API alike.

The first attempt of each create takes two advisory locks in the opposite order of a helper connection,
so PostgreSQL finds a real cycle and aborts the create's transaction (its deadlock_timeout is the
shorter one); the service makes the create again, which goes through. One network or container, one
audit entry: the aborted attempt left nothing behind.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import OperationalError, connection

from networks.models import Container, Network
from networks.services import queue
from networks.services.containers import run as run_services
from networks.services.networks import create as network_services
from portal.models import AuditEntry
from tests.pages import run_form

pytestmark = [
    pytest.mark.django_db(transaction=True),  # outside a test transaction, as a request is
    pytest.mark.skipif(connection.vendor != "postgresql", reason="deadlocks are PostgreSQL's; SQLite has none"),
]

HELD_BY_HELPER, HELD_BY_CREATE = 22_001, 22_002  # advisory lock keys


@pytest.fixture(autouse=True)
def nothing_reaches_a_worker(monkeypatch):
    """The creates' operations are recorded as sent but reach no worker: a worker an earlier test started
    would otherwise run them against a cluster of rows while the test database is being flushed (its
    TRUNCATE then deadlocked with the worker's reads)."""
    monkeypatch.setattr(queue, "send", lambda *args, **kwargs: None)


def helper_conninfo() -> str:
    settings = connection.settings_dict
    parts = {"dbname": settings["NAME"], "user": settings["USER"], "password": settings["PASSWORD"]}
    parts |= {"host": settings["HOST"], "port": str(settings["PORT"] or "")}
    return psycopg.conninfo.make_conninfo(**{name: value for name, value in parts.items() if value})


class FirstAttemptDeadlocks:
    """Wraps a function the create calls inside its transaction: on the first call, a deadlock with a helper."""

    def __init__(self, monkeypatch, module, name: str):
        self.original = getattr(module, name)
        self.calls = 0
        self.victims: list[str] = []
        self.helper_ready, self.create_holds = threading.Event(), threading.Event()
        self.helper = threading.Thread(target=self.hold_then_wait, daemon=True)
        monkeypatch.setattr(module, name, self.wrapped)

    def hold_then_wait(self) -> None:
        with psycopg.connect(helper_conninfo()) as other:
            other.execute("SET deadlock_timeout = '60s'")  # the create's side finds the cycle first
            other.execute("SELECT pg_advisory_xact_lock(%s)", [HELD_BY_HELPER])
            self.helper_ready.set()
            self.create_holds.wait(30)
            other.execute("SELECT pg_advisory_xact_lock(%s)", [HELD_BY_CREATE])  # waits until the create aborts
            other.rollback()

    def helper_waits(self, cursor) -> bool:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] == 1

    def wrapped(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            self.helper.start()
            assert self.helper_ready.wait(30)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '50ms'")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HELD_BY_CREATE])
                self.create_holds.set()
                for _ in range(3000):  # until the helper waits for the lock this transaction holds
                    if self.helper_waits(cursor):
                        break
                    time.sleep(0.01)
                try:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HELD_BY_HELPER])  # the cycle
                except OperationalError as error:
                    self.victims.append(type(error.__cause__).__name__)
                    raise
        return self.original(*args, **kwargs)

    def finish(self) -> None:
        self.helper.join(30)
        assert not self.helper.is_alive()


PATHS = ["page", "api", "api with Idempotency-Key"]


@pytest.mark.parametrize("path", PATHS)
def test_a_network_create_chosen_as_a_deadlocks_victim_is_made_again(team, client, monkeypatch, path):
    deadlock = FirstAttemptDeadlocks(monkeypatch, network_services, "grant_check_room")
    member = team.users["member"]
    if path == "page":
        client.force_login(member)
        response = client.post("/networks/new/", {"cluster": team.cluster.pk, "name": "web", "prefixlen": 24})
        assert response.status_code == 302, response.content[:500]
    else:
        headers = {"Idempotency-Key": "create-web-1"} if "Idempotency" in path else {}
        response = team.api("member").post("networks/", {"name": "web", "prefixlen": 24}, headers=headers)
        assert response.status_code == 202, response.content
    deadlock.finish()
    assert deadlock.victims == ["DeadlockDetected"] and deadlock.calls == 2
    network = Network.objects.get(tenant=team.tenant, name="web")
    assert network.status == Network.Status.CREATING and network.operations.count() == 1
    entry = AuditEntry.objects.get(action="network.create")
    assert (entry.user, entry.object_id) == (member, str(network.pk))


@pytest.mark.parametrize("path", PATHS[:2])
def test_a_container_run_chosen_as_a_deadlocks_victim_is_made_again(team, client, monkeypatch, path):
    deadlock = FirstAttemptDeadlocks(monkeypatch, run_services, "grant_check_room")
    member = team.users["member"]
    if path == "page":
        client.force_login(member)
        response = client.post("/containers/run/", run_form(team.cluster, name="app"))
        assert response.status_code == 302, response.content[:500]
    else:
        body = {"name": "app", "image": "overlay-portal/tools:latest"}
        response = team.api("member").post("containers/", body)
        assert response.status_code == 202, response.content
    deadlock.finish()
    assert deadlock.victims == ["DeadlockDetected"] and deadlock.calls == 2
    container = Container.objects.get(tenant=team.tenant, name="app")
    assert container.operations.count() == 1
    entry = AuditEntry.objects.get(action="container.run")
    assert (entry.user, entry.object_id) == (member, str(container.pk))
