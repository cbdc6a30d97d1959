"""When each thread's Docker calls were sent and answered, noted by the clients' `send` (docker.py) and by
the plain calls (docker_plain.py), for a watcher in another thread to tell a run stuck in a call from one between calls (services/watch.py)."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class CallTimes:
    """One thread's Docker calls (time.monotonic()): since when it waits on one; when one last answered."""

    waiting_since: float | None
    answered_at: float | None


_waiting: dict[int, float] = {}  # thread -> start of the HTTP request it waits on
_answered: dict[int, float] = {}  # thread -> when its last HTTP request was answered


def calls_of(thread: int) -> CallTimes:
    """How `thread`'s Docker calls stand, for a watcher in another thread (services/watch.py)."""
    return CallTimes(_waiting.get(thread), _answered.get(thread))


@contextlib.contextmanager
def timed_call() -> Iterator[None]:
    """Around one HTTP request to Docker in this thread: noted as waiting on it, then as answered."""
    thread = threading.get_ident()
    _waiting[thread] = time.monotonic()
    try:
        yield
    finally:
        _waiting.pop(thread, None)
    _answered[thread] = time.monotonic()


def timed_send(send):
    """The client's `send`, noting per thread when a request is sent and when it is answered."""

    @functools.wraps(send)
    def timed_send(request, **kwargs):
        with timed_call():
            return send(request, **kwargs)

    return timed_send
