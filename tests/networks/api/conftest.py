"""The REST API's tests: teams with a token per role, on clusters that are only rows (tests/apiclient.py)."""

from tests.apiclient import fresh_throttle_counts, other_team, team  # noqa: F401  (fixtures of these tests)
