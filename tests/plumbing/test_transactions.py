"""A deadlock's victim is made again; any other database error is not. A change made as a whole takes no
savepoint inside."""

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from plumbing.errors import ServiceError
from plumbing.transactions import ATTEMPTS, atomic_as_a_whole, atomic_with_retry, retried_on_deadlock
from portal.models import Tenant

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


def test_inside_a_change_made_as_a_whole_services_take_no_savepoint_and_an_error_ends_it_all():
    made = []

    @retried_on_deadlock
    def service(name: str):
        Tenant.objects.create(name=name, slug=name)
        made.append(name)
        if name.startswith("refused"):
            raise ServiceError("refused", "Refused.")

    with CaptureQueriesContext(connection) as queries:
        atomic_as_a_whole(lambda: service("whole"))
    assert not [q for q in queries if "SAVEPOINT" in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        atomic_with_retry(lambda: service("kept"))  # elsewhere, a savepoint as before
    assert [q for q in queries if "SAVEPOINT" in q["sql"]]

    def two():
        service("first")
        service("refused-second")

    with pytest.raises(ServiceError):
        atomic_as_a_whole(two)
    assert made == ["whole", "kept", "first", "refused-second"]
    assert set(Tenant.objects.values_list("slug", flat=True)) >= {"whole", "kept"}
    assert not Tenant.objects.filter(slug__in=["first", "refused-second"]).exists()  # none of it stayed
    atomic_with_retry(lambda: service("after"))  # the connection goes on
