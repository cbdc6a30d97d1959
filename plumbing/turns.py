"""At most WEB_ACTIVE_REQUESTS requests of a web process compute at once; the others wait their turn.

gunicorn's gthread workers run many threads so that each long poll and each `?wait=` can hold one
while it waits. Threads that all compute at once only trade the GIL back and forth, and one that
holds the swarm's allocation lock then holds it longer for everyone: 50 creates at once finished
in 6.2 s with 32 threads computing per process, 4.9 s with 4 (bench/e2e.py). With 2, against 4 in turns on
the 2-core VM (four pairs, session 26): 50 creates at once 3.0-3.9x raw Docker against 3.6-4.9x, CPU per create
16.0-18.4 ms against 18.2-18.4; `bench/load.py` read p95 118 ms against 187. So a request takes a turn for its
whole life, and a request that waits (plumbing's callers: the notices' long polls and
`?wait=`) gives its turn back while it waits.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.conf import settings

_turns = threading.BoundedSemaphore(settings.WEB_ACTIVE_REQUESTS)  # per process: apps load after the fork
_held = threading.local()


class TurnsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with _turns:
            _held.turn = True
            try:
                return self.get_response(request)
            finally:
                _held.turn = False


@contextlib.contextmanager
def turn_given_back() -> Iterator[None]:
    """While a request only waits (on Redis, on a sleep), another one may compute."""
    if not getattr(_held, "turn", False):
        yield
        return
    _turns.release()
    _held.turn = False
    try:
        yield
    finally:
        _turns.acquire()
        _held.turn = True
