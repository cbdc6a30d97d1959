"""Webhook delivery latency: from a change committed to its delivery received, through the outbox, a real
Celery worker and a real receiver on 127.0.0.1 that verifies each signature.

Baselines, in the same run: the same signed body POSTed straight to the same receiver from this process,
raw (the standard library's http.client, a new connection each time: what any sender pays), and through
webhooks/sending.py's `post` (the address checks, then httpx, as the worker sends it). 20 of each, one at a time; medians. Needs Redis
(CELERY_BROKER_URL) and a database the worker shares: DATABASE_URL (PostgreSQL; default a SQLite file,
var/bench-webhooks.sqlite3, made afresh). Run: `.venv/bin/python bench/webhooks.py`. The last line reads
`webhook latency: <ms> ms median (raw POST <ms> ms, <x>x)`.
"""

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = ROOT / "var" / "bench-webhooks.sqlite3"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{DATABASE}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "insecure-bench-key-do-not-use-in-production")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.1/32"
os.environ["WEBHOOK_ALLOW_HTTP"] = "true"

import django  # noqa: E402

django.setup()

from celery import current_app  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from portal.actors import Actor  # noqa: E402
from portal.changes import change_record  # noqa: E402
from portal.services import tenant_create  # noqa: E402
from tests.fixtures.webhook_receiver import Receiver  # noqa: E402
from webhooks.models import WebhookDelivery  # noqa: E402
from webhooks.sending import post  # noqa: E402
from webhooks.services.endpoints import endpoint_create  # noqa: E402
from webhooks.signing import signed_headers  # noqa: E402

SAMPLES = 20
TIMEOUT = 30.0


def received(receiver: Receiver, message_id: str) -> float:
    """When (monotonic) the receiver got `message_id`, waiting for it."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for item in receiver.delivered():
            if item.message_id == message_id:
                return item.at
        time.sleep(0.001)
    raise SystemExit(f"{message_id} never arrived: is the worker up? (its log: var/bench-webhooks-worker.log)")


def worker() -> subprocess.Popen:
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    log = open(ROOT / "var" / "bench-webhooks-worker.log", "wb")  # noqa: SIM115 (lives as long as the worker)
    command = [celery, "-A", "portal", "worker", "--loglevel=WARNING", "--concurrency=2", "--without-gossip"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not current_app.control.ping(timeout=1.0):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("the worker did not start: see var/bench-webhooks-worker.log")
    return process


def main() -> None:
    DATABASE.parent.mkdir(exist_ok=True)
    if os.environ["DATABASE_URL"].startswith("sqlite"):
        DATABASE.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    receiver = Receiver()
    receiver.start()
    tenant = tenant_create(name=f"Bench {time.time_ns()}")
    endpoint, secret = endpoint_create(
        actor=Actor.command(), tenant=tenant, url=receiver.url, events=["network.*"], description="bench"
    )
    receiver.secrets.append(secret)
    process = worker()
    try:
        change_record(actor=Actor.command(), action="network.create", tenant=tenant, object_repr="warm-up")
        received(receiver, WebhookDelivery.objects.filter(endpoint=endpoint).latest("pk").message_id)
        through_worker, raw, checked = [], [], []
        for i in range(SAMPLES):
            with transaction.atomic():
                change_record(actor=Actor.command(), action="network.create", tenant=tenant, object_repr=f"n{i}")
                delivery = WebhookDelivery.objects.filter(endpoint=endpoint).latest("pk")
            committed = time.monotonic()
            through_worker.append(received(receiver, delivery.message_id) - committed)

            message_id = f"msg_raw_{i}"
            body = json.dumps({**delivery.payload, "id": message_id}, separators=(",", ":")).encode()
            started = time.monotonic()
            headers = signed_headers(message_id=message_id, at=timezone.now(), body=body, secrets_in_use=[secret])
            connection = http.client.HTTPConnection("127.0.0.1", receiver.server.server_address[1], timeout=5)
            connection.request("POST", "/hooks/portal", body=body, headers=headers)
            connection.getresponse().read()
            connection.close()
            raw.append(received(receiver, message_id) - started)

            message_id = f"msg_checked_{i}"
            body = json.dumps({**delivery.payload, "id": message_id}, separators=(",", ":")).encode()
            started = time.monotonic()
            headers = signed_headers(message_id=message_id, at=timezone.now(), body=body, secrets_in_use=[secret])
            post(receiver.url, body=body, headers=headers)
            checked.append(received(receiver, message_id) - started)
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
        receiver.stop()
    webhook_ms, raw_ms = statistics.median(through_worker) * 1000, statistics.median(raw) * 1000
    print(f"{SAMPLES} deliveries, one at a time; p90 {sorted(through_worker)[int(SAMPLES * 0.9)] * 1000:.1f} ms")
    print(f"sending.post from this process (checks + httpx): {statistics.median(checked) * 1000:.1f} ms median")
    print(f"webhook latency: {webhook_ms:.1f} ms median (raw POST {raw_ms:.1f} ms, {webhook_ms / raw_ms:.1f}x)")


if __name__ == "__main__":
    main()
