"""When each thread's Docker calls were sent and answered, noted by the clients' `send` (docker.py), for a
watcher in another thread to tell a run stuck in a call from one between calls (services/watch.py)."""

from __future__ import annotations

import functools
import threading
import time
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


def timed_send(send):
    """The client's `send`, noting per thread when a request is sent and when it is answered."""

    @functools.wraps(send)
    def timed_send(request, **kwargs):
        thread = threading.get_ident()
        _waiting[thread] = time.monotonic()
        try:
            response = send(request, **kwargs)
        finally:
            _waiting.pop(thread, None)
        _answered[thread] = time.monotonic()
        return response

    return timed_send
