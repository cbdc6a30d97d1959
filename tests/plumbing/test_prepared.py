"""A query compiled once (`PreparedRows`) answers the rows its ORM queryset answers, for every value."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from networks.api.views.networks import _network_row, _network_row_query
from networks.models import Network, Operation
from plumbing.prepared import PreparedObjects, PreparedRows
from tests.factories import make_container, make_network, make_operation, make_team
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


def fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_objects_are_the_orm_querysets_instances_with_their_related_rows():
    team = make_team("Objects")
    network = make_network(team, "objects-net")
    container = make_container(team, "objects-box", networks=[network])
    operations = [
        make_operation(team, network=network),
        make_operation(team, Operation.Kind.CONTAINER_RUN, container=container, network=network),
        make_operation(team, Operation.Kind.CLUSTER_RECONCILE),  # no network, no container
    ]
    related = ("cluster", "tenant", "network", "container")
    locked = PreparedObjects(
        lambda pk: Operation.objects.filter(pk=pk).select_related(*related).select_for_update(of=("self",)), "pk"
    )
    for operation in operations:
        with transaction.atomic():
            (prepared,) = locked(pk=operation.pk)
        (orm,) = Operation.objects.filter(pk=operation.pk).select_related(*related)
        assert type(prepared) is Operation and fields(prepared) == fields(orm)
        assert prepared._state.db == "default" and not prepared._state.adding
        for name in related:
            assert getattr(type(orm), name).is_cached(prepared)  # read with it: no query later
            mine, theirs = getattr(prepared, name), getattr(orm, name)
            assert (mine and fields(mine)) == (theirs and fields(theirs))
    with transaction.atomic():
        assert locked(pk=max(operation.pk for operation in operations) + 1) == []


def test_objects_need_a_queryset_of_instances():
    with pytest.raises(ImproperlyConfigured):
        PreparedObjects(lambda pk: Network.objects.filter(pk=pk).values("id"), "pk")(pk=1)
