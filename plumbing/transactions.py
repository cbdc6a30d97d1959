"""A change that PostgreSQL chose as a deadlock's victim is made again, not answered with a 500.

PostgreSQL resolves a deadlock by aborting one of the transactions and expects the client to run
it again. Two requests that each hold what the other waits for are rare but real: bench/e2e.py
met one among 1,000 creates at once, between a create taking the swarm's allocation lock and a
follow-up of the events follower recording an operation on the same cluster.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
ATTEMPTS = 3
# Inside `atomic_as_a_whole`: the services made there take no savepoint of their own.
_as_a_whole = contextvars.ContextVar("as_a_whole", default=False)


def _is_deadlock(error: OperationalError) -> bool:
    cause = error.__cause__
    return type(cause).__name__ in ("DeadlockDetected", "SerializationFailure")


def atomic_with_retry(change: Callable[[], T]) -> T:
    """Run `change` in a transaction of its own (the outermost one), again when it was a deadlock's victim.

    Inside another transaction, a savepoint of it; none inside `atomic_as_a_whole`, whose error ends the whole."""
    savepoint = not (_as_a_whole.get() and transaction.get_connection().in_atomic_block)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic(savepoint=savepoint):
                return change()
        except OperationalError as error:
            if attempt == ATTEMPTS or not _is_deadlock(error) or transaction.get_connection().in_atomic_block:
                raise
            logger.warning("a deadlock's victim, made again (%s/%s): %s", attempt, ATTEMPTS - 1, error)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def atomic_as_a_whole(change: Callable[[], T]) -> T:
    """`atomic_with_retry` for a change that fails as a whole: whatever goes wrong inside it ends its
    transaction (nothing in it goes on after an error), so the services it calls (`retried_on_deadlock`)
    take no savepoint of their own (two statements each). An API create and its stored answer are one."""

    def whole() -> T:
        token = _as_a_whole.set(True)
        try:
            return change()
        finally:
            _as_a_whole.reset(token)

    return atomic_with_retry(whole)


def retried_on_deadlock(change: Callable[P, T]) -> Callable[P, T]:
    """A service made in a transaction of its own and made again when it was a deadlock's victim.

    Called inside another transaction (an API create that stores its Idempotency-Key answer with it),
    it is a savepoint of that one, and the outermost `atomic_with_retry` makes the whole again."""

    @functools.wraps(change)
    def retried(*args: P.args, **kwargs: P.kwargs) -> T:
        return atomic_with_retry(lambda: change(*args, **kwargs))

    return retried
