"""A page's (or a record's) containers, shares and tags: PostgreSQL's one query gives what the three ORM
queries other databases use give, in the same order."""

import pytest
from django.db import connection

from networks.models import Endpoint, NetworkTag
from networks.selectors.networks import _related_rows, _related_rows_postgresql
from tests.factories import make_team
from tests.pages import populate

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own query")
def test_one_query_gives_the_rows_three_give():
    made = populate(make_team(), 30)
    network = made["network"]
    NetworkTag.objects.bulk_create(NetworkTag(network=network, name=name) for name in ("zeta", "alpha", "Mid"))
    Endpoint.objects.filter(network=network).update(aliases=["web", "wéb-2"])
    ids = list(network.__class__.objects.values_list("pk", flat=True))
    expected = list(_related_rows(ids))
    assert {kind for kind, _, _ in expected} == {"endpoint_rows", "share_rows", "tag_rows"}
    assert list(_related_rows_postgresql(ids)) == expected
