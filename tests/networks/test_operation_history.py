"""A portal's history of finished operations grows for ever (each swarm's reconcile adds one every 5 minutes);
what looks at the unfinished ones must not read it: every create's answer (how many are ahead), the outbox,
recovery and the pages' "still changing" look go by the partial index of the unfinished rows."""

import pytest
from django.db import connection
from django.utils import timezone

from networks.models import Operation
from networks.selectors.operations import operation_list
from tests.factories import make_operation

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL test: run with DATABASE_URL=postgres://... (.ci/run does)"
)
HISTORY = 20_000


@pytest.fixture
def history(team):
    """HISTORY finished operations and three unfinished ones, the planner's statistics up to date."""
    done = make_operation(team, status=Operation.Status.SUCCEEDED)
    columns = [f.column for f in Operation._meta.concrete_fields if f.column != "id"]
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO networks_operation ({names}) SELECT {names} FROM networks_operation, "
            f"generate_series(1, %s) WHERE id = %s",
            [HISTORY - 1, done.pk],
        )
        for status in (Operation.Status.QUEUED, Operation.Status.QUEUED, Operation.Status.RUNNING):
            make_operation(team, status=status)
        cursor.execute("ANALYZE networks_operation")
    return team


def plan(queryset) -> str:
    return queryset.explain()


@pytest.mark.django_db
def test_the_unfinished_are_found_without_reading_the_finished(history):
    assert Operation.objects.count() == HISTORY + 3
    now = timezone.now()
    looks = {
        "ahead of a queued one": Operation.objects.unfinished().filter(created__lt=now),
        "the outbox": Operation.objects.filter(status=Operation.Status.QUEUED, sent__isnull=True),
        "recovery of the running": Operation.objects.filter(status=Operation.Status.RUNNING, updated__lt=now),
        "a team's unfinished": operation_list(tenant=history.tenant).unfinished(),
    }
    for what, queryset in looks.items():
        explained = plan(queryset)
        assert "operation_unfinished_idx" in explained, (what, explained)
        assert "Seq Scan on networks_operation" not in explained, (what, explained)
    assert Operation.objects.unfinished().count() == 3
