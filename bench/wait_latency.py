"""How soon a waiter hears that an operation finished: `?wait=` and a page's live status, polling vs words.

Time from the worker marking an operation finished (the moment `operation_succeed`'s transaction has
committed, when a reader can see it) to the answer:
- `?wait=`: `operation_wait_until_finished`, what the API's views call with `?wait=`, against the
  way it worked before, measured in the same run: read the database every 0.25 s;
- the operation page's progress part, through Django's whole stack (middleware, session, view,
  template) with the test client: the long poll (sent with the version the page shows, held until
  it changes) against the way it worked before: htmx asking every 1 s.

The "worker" finishes each operation at a random moment 0.1-1.1 s after the waiter starts, so a
poller's phase is as luck has it. 20 of each; medians. Needs Redis (CELERY_BROKER_URL, default as
the portal's settings: only its pub/sub is used, no task is sent) and makes its own SQLite database
(var/bench-wait.sqlite3). Run: `.venv/bin/python bench/wait_latency.py`. The last line reads
`wait latency: ?wait= <ms> ms (polling <ms> ms, <x>x), page <ms> ms (polling <ms> ms, <x>x)`.
"""

import os
import random
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = ROOT / "var" / "bench-wait.sqlite3"
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "insecure-bench-key-do-not-use-in-production")
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from networks.api.views.base import operation_wait_until_finished  # noqa: E402
from networks.models import Cluster, Operation  # noqa: E402
from networks.services.operations import operation_succeed  # noqa: E402
from portal.models import Membership  # noqa: E402
from portal.services import membership_set, tenant_create  # noqa: E402

SAMPLES = 20
OLD_WAIT_POLL_SECONDS = 0.25  # networks/api/views/base.py before the words
OLD_PAGE_POLL_SECONDS = 1.0  # hx-trigger="every 1s" before the long poll


def prepare():
    """A fresh database with a team, a viewer logged in with the test client, and a cluster of rows."""
    DATABASE.parent.mkdir(exist_ok=True)
    DATABASE.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    viewer = get_user_model().objects.create_user(username="watcher")
    tenant = tenant_create(name="Watchers")
    membership_set(tenant=tenant, user=viewer, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    address = "192.0.2.1"
    cluster = Cluster.objects.create(
        name="watched", docker_endpoint=f"tcp://{address}:2375", consul_address=f"http://{address}:8500"
    )
    cluster.grants.create(tenant=tenant)
    return tenant, cluster, client


def running_operation(tenant, cluster) -> Operation:
    progress = [{"at": "2026-01-01T10:00:00+00:00", "message": "Running."}]
    return Operation.objects.create(
        tenant=tenant,
        cluster=cluster,
        kind=Operation.Kind.NETWORK_CREATE,
        target="bench",
        status=Operation.Status.RUNNING,
        progress=progress,
    )


def measure(wait, operation: Operation) -> float:
    """Start `wait(operation)` in a thread, finish the operation a random moment later; seconds from
    the finish to the waiter's answer."""
    answered = {}

    def waiter():
        try:
            wait(operation)
            answered["at"] = time.perf_counter()
        finally:
            connection.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(random.uniform(0.1, 1.1))
    finished = {}
    with transaction.atomic():
        # Registered first, so it runs first once the commit is done (before the word is sent).
        transaction.on_commit(lambda: finished.setdefault("at", time.perf_counter()))
        operation_succeed(operation=Operation.objects.get(pk=operation.pk), message="Done.")
    thread.join(30)
    return answered["at"] - finished["at"]


def old_wait(operation: Operation) -> None:
    """?wait= as it was: read the database every 0.25 s."""
    while not operation.is_finished:
        time.sleep(OLD_WAIT_POLL_SECONDS)
        operation.refresh_from_db()


def new_wait(operation: Operation) -> None:
    operation_wait_until_finished(operation, 30)
    assert operation.is_finished


def page_waiters(client):
    def seen_version(operation) -> str:
        page = client.get(f"/operations/{operation.pk}/").content.decode()
        return re.search(r'"X-Seen-Version": "(\w+)"', page).group(1)

    def old_page(operation) -> None:
        """The progress part as it was: asked every second until it shows the end."""
        while True:
            started = time.perf_counter()
            response = client.get(f"/operations/{operation.pk}/progress/")
            assert response.status_code == 200, response.status_code
            if b"Succeeded" in response.content:
                return
            time.sleep(max(0.0, OLD_PAGE_POLL_SECONDS - (time.perf_counter() - started)))

    def new_page(operation) -> None:
        """The long poll: sent with the version the page shows, answered when it changes."""
        headers = {"HX-Request": "true", "X-Seen-Version": seen_version(operation)}
        while True:
            response = client.get(f"/operations/{operation.pk}/progress/", headers=headers)
            assert response.status_code in (200, 204), response.status_code
            if b"Succeeded" in response.content:
                return

    return old_page, new_page


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    tenant, cluster, client = prepare()
    old_page, new_page = page_waiters(client)
    figures: dict[str, list[float]] = {}
    for _ in range(SAMPLES):  # interleaved, so other load on the machine weighs on both alike
        for name, wait in (
            ("wait polling", old_wait),
            ("wait", new_wait),
            ("page polling", old_page),
            ("page", new_page),
        ):
            figures.setdefault(name, []).append(measure(wait, running_operation(tenant, cluster)))
    for name, samples in figures.items():
        low, high = min(samples) * 1000, max(samples) * 1000
        print(f"{name:13} median {median_ms(samples):7.1f} ms  (min {low:.1f}, max {high:.1f}, n={len(samples)})")
    wait, wait_old = median_ms(figures["wait"]), median_ms(figures["wait polling"])
    page, page_old = median_ms(figures["page"]), median_ms(figures["page polling"])
    print(
        f"wait latency: ?wait= {wait:.1f} ms (polling {wait_old:.1f} ms, {wait_old / wait:.0f}x), "
        f"page {page:.1f} ms (polling {page_old:.1f} ms, {page_old / page:.0f}x)"
    )


if __name__ == "__main__":
    main()
