"""The REST API's tests: `team` and `other_team` are teams with a token per role, on clusters recorded from
a swarm nobody calls (tests/fixtures/teams.py), and each test starts with fresh throttling counts.

Tests here that use the `db` fixture never reach a worker: the services enqueue their tasks when the
transaction commits, and pytest-django's test transaction never does. The tests that go through the real
worker and cluster use `tenant_cluster` and `celery_worker_process`.
"""

import pytest


@pytest.fixture(autouse=True)
def throttle_counts_at_zero(fresh_throttle_counts):
    """Every test here starts from zero throttled requests."""


@pytest.fixture
def team(api_team):
    return api_team


@pytest.fixture
def other_team(other_api_team):
    return other_api_team
