"""plumbing/turns.py: a web process computes WEB_ACTIVE_REQUESTS requests at once, and a request that only waits
gives its turn back meanwhile: a question to a worker (`queue.ask`) waits on the result store, and every turn is
free for other requests while it does. Celery's send stands in for a worker here (a unit test of the wait)."""

from __future__ import annotations

from django.conf import settings

from networks.services import queue
from plumbing import turns


def turns_free() -> int:
    """How many turns another request could take now (taken and given back at once)."""
    taken = 0
    while turns._turns.acquire(blocking=False):
        taken += 1
    for _ in range(taken):
        turns._turns.release()
    return taken


def test_a_request_waiting_for_a_workers_answer_gives_its_turn_back(monkeypatch):
    free_while_waiting = []

    class Asked:
        def get(self, timeout):
            free_while_waiting.append(turns_free())
            return "answered"

    monkeypatch.setattr(queue, "workers_running", lambda: True)
    monkeypatch.setattr(queue.current_app, "send_task", lambda name, args: Asked())
    request_in_turn = turns.TurnsMiddleware(lambda request: (turns_free(), queue.ask("question", timeout=1)))

    assert request_in_turn(None) == (settings.WEB_ACTIVE_REQUESTS - 1, "answered")  # it computed in a turn
    assert free_while_waiting == [settings.WEB_ACTIVE_REQUESTS]  # and waited in none
    assert turns_free() == settings.WEB_ACTIVE_REQUESTS  # every turn given back at its end
