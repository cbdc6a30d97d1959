"""Where a restarted events follower resumes a node's events: where the last one got to, within bounds."""

from datetime import UTC, datetime

import pytest

from networks.models import Node
from networks.services.events import node_events_handled, node_events_resume_at, resume_point

NOW = 1_800_000_000.0  # a Unix time
CATCH_UP = 300


def at(seconds_ago: float) -> datetime:
    return datetime.fromtimestamp(NOW - seconds_ago, tz=UTC)


def test_a_node_never_followed_starts_now():
    assert resume_point(None, now=NOW, catch_up=CATCH_UP) == NOW


def test_a_follower_resumes_where_the_last_one_got_to():
    assert resume_point(at(42), now=NOW, catch_up=CATCH_UP) == NOW - 42


def test_an_old_mark_looks_back_no_further_than_the_catch_up():
    assert resume_point(at(3 * 86400), now=NOW, catch_up=CATCH_UP) == NOW - CATCH_UP


def test_a_mark_in_the_future_starts_now():
    assert resume_point(at(-600), now=NOW, catch_up=CATCH_UP) == NOW


@pytest.mark.django_db
def test_the_mark_is_kept_on_the_node_and_set_at_once_when_following_starts(team):
    node = team.node()
    assert node_events_resume_at(node_id=node.pk, now=NOW, catch_up=CATCH_UP) == NOW
    assert Node.objects.get(pk=node.pk).events_seen_until == at(0), "a follower stopped at once resumes from here"
    node_events_handled(node_id=node.pk, until=int(NOW) + 20)
    assert node_events_resume_at(node_id=node.pk, now=NOW + 65, catch_up=CATCH_UP) == NOW + 20
    assert Node.objects.get(pk=team.node("node2").pk).events_seen_until is None, "each node has its own"
