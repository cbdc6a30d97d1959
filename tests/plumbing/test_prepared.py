"""A query compiled once (`PreparedRows`) answers the rows its ORM queryset answers, for every value."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.db.models import F, signals
from django.utils import timezone

from networks.api.views.networks import _network_row, _network_row_query
from networks.models import Network, Operation
from plumbing.prepared import PreparedObjects, PreparedRows, PreparedSave
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


SAVED = ["status", "finished", "result", "progress", "waits_on", "waiting_since", "updated"]


def test_a_prepared_save_writes_what_djangos_save_writes():
    team = make_team()
    ours, theirs = make_operation(team, status=Operation.Status.RUNNING), make_operation(team, status="running")
    before = Operation.objects.get(pk=theirs.pk).updated
    for operation in (ours, theirs):  # a None among the values, JSON, text, a time, and auto_now's stamp
        operation.status, operation.finished = Operation.Status.SUCCEEDED, timezone.now()
        operation.result, operation.progress = {"id": "abc", "ünïcode": [1, 2]}, [*operation.progress, {"m": "é"}]
        operation.waits_on, operation.waiting_since = Operation.WaitsOn.NOTHING, None
    PreparedSave(Operation, SAVED)(ours)
    theirs.save(update_fields=SAVED)
    mine, django = Operation.objects.get(pk=ours.pk), Operation.objects.get(pk=theirs.pk)
    assert {name: getattr(mine, name) for name in SAVED if name != "updated"} == {
        **{name: getattr(django, name) for name in SAVED if name != "updated"},
        "finished": ours.finished,
    }
    assert mine.updated == ours.updated > before  # auto_now stamped the instance and the row alike
    assert (mine.target, mine.kind, mine.params) == (django.target, django.kind, django.params)  # nothing else


def test_a_prepared_save_of_a_row_gone_raises_as_djangos():
    operation = make_operation(make_team())
    Operation.objects.filter(pk=operation.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        PreparedSave(Operation, ["status"])(operation)


def test_an_expression_or_a_receiver_takes_djangos_save():
    operation = make_operation(make_team(), attempts=1)
    operation.attempts = F("attempts") + 1
    PreparedSave(Operation, ["attempts"])(operation)
    assert Operation.objects.get(pk=operation.pk).attempts == 2
    heard = []

    def receiver(sender, instance, update_fields, **kwargs):
        heard.append(set(update_fields))

    signals.post_save.connect(receiver, sender=Operation)
    try:
        PreparedSave(Operation, ["status"])(Operation.objects.get(pk=operation.pk))
    finally:
        signals.post_save.disconnect(receiver, sender=Operation)
    assert heard == [{"status"}]


def test_only_plain_columns():
    with pytest.raises(ImproperlyConfigured):
        PreparedSave(Operation, ["id"])
