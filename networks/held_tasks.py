"""The worker's record of the tasks it holds, in the broker's Redis (networks/services/queue.py `held_publish`):
what operations_recover reads to tell a lost message from one a live worker has (networks/tasks.py registers the
step with every worker)."""

from __future__ import annotations

import logging

from celery import bootsteps, signals
from celery.worker import state as worker_state
from celery.worker.request import Request as WorkerRequest
from redis.exceptions import RedisError

from networks.services import queue

logger = logging.getLogger(__name__)


class HeldTaskIds(bootsteps.StartStopStep):
    """Keep the ids of the tasks this worker holds (running, prefetched, waiting for a retry's countdown)
    in the broker's Redis, refreshed every few seconds and at once when a message arrives: what
    operations_recover reads instead of asking every worker by broadcast (three questions, each waiting
    its full timeout, held a worker process ~60% of the time).

    The refresh looks at the timer's heap too (a countdown's message waits there); a message's arrival only at
    the tasks running and prefetched, beside what the last refresh found in the timer and the countdowns that
    arrived since: the heap keeps each task's cancelled time-limit entry for the limit's length (hundreds on a
    busy worker), and was walked on every message. What ended since the refresh stays named until the next,
    as it did between messages (recovery's grace is longer)."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, parent):
        self.consumer = parent
        self.writes = queue.held_writes()
        self.timed: frozenset[str] = frozenset()  # what the last refresh found in the timer
        self.counting: set[str] = set()  # what arrived since to wait in the timer
        self.refresh = parent.timer.call_repeatedly(queue.HELD_REFRESH_SECONDS, self.publish)
        signals.task_received.connect(self.received, sender=parent, weak=False)
        self.publish()

    def stop(self, parent):
        signals.task_received.disconnect(self.received, sender=parent)
        if getattr(self, "refresh", None) is not None:
            self.refresh.cancel()
        if getattr(self, "writes", None) is not None:
            self.writes.close()
            self.writes = None

    def received(self, sender=None, request=None, **kwargs):
        # Sent before the request is counted as reserved or scheduled: named here so it is never in neither.
        held = _running_and_prefetched() | self.timed | self.counting
        if request is not None:
            held.add(request.id)
            if request.eta or getattr(self.consumer, "task_buckets", {}).get(request.name):
                self.counting.add(request.id)  # to wait in the timer (a countdown, a rate limit), read by refreshes
        self._write(held)

    def publish(self):
        """Look at all the worker holds and write it (run by the event loop between messages: one that
        arrived is counted as reserved or scheduled by then)."""
        timed = set()
        # The timer's heap as it is: its `queue` sorts a copy (O(n log n) in Python).
        for waiting in list(self.consumer.timer._queue):
            entry = waiting.entry
            args = () if entry.canceled else getattr(entry, "args", None) or ()
            if args and isinstance(args[0], WorkerRequest):
                timed.add(args[0].id)
        self.timed, self.counting = frozenset(timed), set()
        self._write(_running_and_prefetched() | timed)

    def _write(self, held: set[str]) -> None:
        if self.writes is None:  # a broker that is not Redis
            return
        try:
            queue.held_publish(writes=self.writes, worker=self.consumer.hostname, task_ids=held)
        except RedisError as error:  # the queue is down too: nothing to recover meanwhile
            logger.warning("could not record the tasks this worker holds: %s", error)


def _running_and_prefetched() -> set[str]:
    return {request.id for request in (*worker_state.active_requests, *worker_state.reserved_requests)}
