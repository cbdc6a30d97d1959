"""A change that PostgreSQL chose as a deadlock's victim is made again, not answered with a 500.

PostgreSQL resolves a deadlock by aborting one of the transactions and expects the client to run
it again. Two requests that each hold what the other waits for are rare but real: bench/e2e.py
met one among 1,000 creates at once, between a create taking the swarm's allocation lock and a
follow-up of the events follower recording an operation on the same cluster.
"""

from __future__ import annotations

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


def _is_deadlock(error: OperationalError) -> bool:
    cause = error.__cause__
    return type(cause).__name__ in ("DeadlockDetected", "SerializationFailure")


def atomic_with_retry(change: Callable[[], T]) -> T:
    """Run `change` in a transaction of its own (the outermost one), again when it was a deadlock's victim."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return change()
        except OperationalError as error:
            if attempt == ATTEMPTS or not _is_deadlock(error) or transaction.get_connection().in_atomic_block:
                raise
            logger.warning("a deadlock's victim, made again (%s/%s): %s", attempt, ATTEMPTS - 1, error)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def retried_on_deadlock(change: Callable[P, T]) -> Callable[P, T]:
    """A service made in a transaction of its own and made again when it was a deadlock's victim.

    Called inside another transaction (an API create that stores its Idempotency-Key answer with it),
    it is a savepoint of that one, and the outermost `atomic_with_retry` makes the whole again."""

    @functools.wraps(change)
    def retried(*args: P.args, **kwargs: P.kwargs) -> T:
        return atomic_with_retry(lambda: change(*args, **kwargs))

    return retried
