"""A query compiled once (`PreparedRows`) answers the rows its ORM queryset answers, for every value."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from networks.api.views.networks import _network_row, _network_row_query
from networks.models import Network
from plumbing.prepared import PreparedRows
from tests.factories import make_team
from tests.pages import populate

pytestmark = pytest.mark.django_db


def test_a_networks_record_is_the_orm_querysets_row_for_each_team():
    team, stranger = make_team("Prepared"), make_team("Stranger")
    populate(team, 12)
    partner = Network.objects.exclude(tenant=team.tenant).values_list("tenant", flat=True).first()
    tenants = [team.tenant.pk, partner, stranger.tenant.pk]
    answered = 0
    for network in Network.objects.all():
        for tenant in tenants:
            prepared = _network_row(tenant=tenant, pk=network.pk)
            assert prepared == list(_network_row_query(tenant=tenant, pk=network.pk))
            answered += len(prepared)
    assert answered > Network.objects.count()  # own and shared rows were compared, not only empty answers
    assert _network_row(tenant=stranger.tenant.pk, pk=Network.objects.first().pk) == []  # another team's


def test_only_integers_by_the_names_given():
    with pytest.raises(TypeError):
        _network_row(tenant="1", pk=1)
    with pytest.raises(TypeError):
        _network_row(tenant=1)


def test_a_value_that_does_not_reach_the_query_as_it_is_is_refused():
    by_name = PreparedRows(lambda tenant, pk: Network.objects.filter(pk=pk).values("id"), "tenant", "pk")
    with pytest.raises(ImproperlyConfigured):
        by_name(tenant=1, pk=1)
    objects = PreparedRows(lambda pk: Network.objects.filter(pk=pk), "pk")
    with pytest.raises(ImproperlyConfigured):
        objects(pk=1)
