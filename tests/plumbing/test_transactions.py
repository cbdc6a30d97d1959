"""A deadlock's victim is made again; any other database error is not."""

import pytest
from django.db import OperationalError

from plumbing.transactions import ATTEMPTS, atomic_with_retry

pytestmark = pytest.mark.django_db(transaction=True)  # outside a test transaction, as a request is


class DeadlockDetected(Exception):
    """Named as psycopg names it."""


def victim() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = DeadlockDetected()
    return error


def test_a_deadlock_victim_is_made_again_until_it_goes_through():
    calls = []

    def change():
        calls.append(1)
        if len(calls) < ATTEMPTS:
            raise victim()
        return "done"

    assert atomic_with_retry(change) == "done"
    assert len(calls) == ATTEMPTS


def test_it_gives_up_after_the_last_attempt_and_never_retries_other_errors():
    def always():
        raise victim()

    with pytest.raises(OperationalError):
        atomic_with_retry(always)
    calls = []

    def other():
        calls.append(1)
        raise OperationalError("server closed the connection")

    with pytest.raises(OperationalError):
        atomic_with_retry(other)
    assert len(calls) == 1
