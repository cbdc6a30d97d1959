"""The worker's take (bench/e2e.py): from an operation's commit to its task's start in the worker, by the
operations' own stamps, and the floor under it, one message between two processes through the broker's
Redis. Import after django.setup()."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import redis

from networks.models import Operation


def worker_takes(operation_ids: list[int]) -> float:
    """Median seconds from an operation's commit to its task's start in the worker, both on this machine's
    clock: `sent`, which the web process stamps in the commit's on_commit hook just before it publishes,
    and `started`: when the worker's pool process began the task (the message taken), written with the
    operation's start under its row's lock.
    Prints the single create's phases by the operation's own stamps (medians)."""
    rows = list(Operation.objects.filter(pk__in=operation_ids).values_list("created", "sent", "started", "finished"))
    phases = {
        "recorded -> committed": [(sent - created).total_seconds() for created, sent, _, _ in rows],
        "committed -> taken by the worker": [(started - sent).total_seconds() for _, sent, started, _ in rows],
        "the worker's run": [(finished - started).total_seconds() for _, _, started, finished in rows],
    }
    print("  " + ", ".join(f"{name} {statistics.median(values) * 1000:.1f} ms" for name, values in phases.items()))
    return statistics.median(phases["committed -> taken by the worker"])


def redis_hop(count: int, *, key: str) -> float:
    """The floor under that: one message from this process to another through the broker's Redis (LPUSH,
    BRPOP; a stamp in it), median of `count`."""
    receiver = subprocess.Popen(
        [sys.executable, "-c", REDIS_HOP_RECEIVER, os.environ["CELERY_BROKER_URL"], key, str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    time.sleep(0.5)  # the receiver is waiting in BRPOP
    for _ in range(count):
        client.lpush(key, repr(time.time()))
        time.sleep(0.05)
    out, _ = receiver.communicate(timeout=30)
    return statistics.median(float(value) for value in out.split())


REDIS_HOP_RECEIVER = """
import sys, time, redis
client, key = redis.Redis.from_url(sys.argv[1]), sys.argv[2]
for _ in range(int(sys.argv[3])):
    stamp = float(client.brpop([key], timeout=10)[1])
    print(time.time() - stamp)
"""
