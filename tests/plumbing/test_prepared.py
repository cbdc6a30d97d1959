"""A query compiled once (`PreparedRows`) answers the rows its ORM queryset answers, for every value."""

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F, signals
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from networks.api.views.networks import _network_row, _network_row_query
from networks.models import Cluster, ClusterGrant, Network, Operation, ReservedRange, SubnetAllocation
from networks.selectors.clusters import cluster_granted_find
from networks.services.allocations import _held_last
from networks.services.allocations_reserved import _reserved_rows
from networks.services.grants import grant_get
from networks.services.networks.rules import _name_taken, _one_name_taken, names_taken
from plumbing.prepared import PreparedObjects, PreparedRows, PreparedUpdate, compile_every
from plumbing.saves import PreparedSave
from portal.actors import Actor
from tests.factories import make_container, make_network, make_operation, make_team
from tests.pages import populate
from webhooks.models import WebhookEndpoint
from webhooks.services.endpoints import endpoint_create
from webhooks.services.outbox import _endpoints

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


def test_a_creates_compiled_reads_answer_as_their_orm_querysets():
    """Each read a create makes under the swarm's lock, compiled once, against its queryset; a big integer
    (the blocks' bounds, which psycopg sends as Int8) reaches the compiled query as it is."""
    team, stranger = make_team("Create reads"), make_team("Create stranger")
    blocks = [make_network(team, f"reads{i}").allocation for i in range(3)]
    cluster, tenant = team.cluster, team.tenant
    assert cluster_granted_find(tenant=tenant, pk=cluster.pk) == cluster
    assert cluster_granted_find(tenant=stranger.tenant, pk=cluster.pk) is None
    assert cluster_granted_find(tenant=tenant, pk=str(cluster.pk)) == cluster  # not an int: the ORM's own
    with transaction.atomic():
        grant = grant_get(cluster=cluster, tenant=tenant, lock=True)
        assert fields(grant) == fields(ClusterGrant.objects.get(cluster=cluster, tenant=tenant))
        assert fields(grant.cluster) == fields(Cluster.objects.get(pk=cluster.pk)) and grant.tenant == tenant
    assert [fields(r) for r in _reserved_rows(cluster=cluster.pk)] == [
        fields(r) for r in ReservedRange.objects.filter(cluster=cluster)
    ]
    for hi in [blocks[0].first - 1, *(b.first for b in blocks), *(b.last + 7 for b in blocks), 2**40]:
        orm = SubnetAllocation.objects.filter(cluster=cluster, first__lte=hi).order_by("-first").values("last")[:1]
        assert _held_last(cluster=cluster.pk, hi=hi) == list(orm)
    endpoint_create(actor=Actor.system("tests"), tenant=tenant, url="http://127.0.0.1:9/hook", events=["network.*"])
    mine = _endpoints(tenant=tenant.pk)
    assert [(e.pk, e.events) for e in mine] == [
        (e.pk, e.events) for e in WebhookEndpoint.objects.filter(tenant=tenant).only("pk", "events")
    ]
    assert len(mine) == 1 and _endpoints(tenant=stranger.tenant.pk) == []


def test_text_values_reach_the_compiled_query_as_they_are():
    """A name given as `text=` takes a string (the name a create asks for), and only a string."""
    team, other = make_team("Text values"), make_team("Text other")
    make_network(team, "taken-here")
    make_network(other, "taken-there")
    for name in ("taken-here", "taken-there", "free", "taken-here ", "Taken-Here", "it's"):
        assert _name_taken(team.cluster, name) == names_taken(team.cluster, [name])
    assert _name_taken(team.cluster, "taken-here") == {"taken-here"}
    with pytest.raises(TypeError):
        _one_name_taken(cluster=team.cluster.pk, name=1)
    with pytest.raises(TypeError):
        _one_name_taken(cluster=str(team.cluster.pk), name="taken-here")


def test_an_update_changes_the_rows_the_orm_update_changes():
    team = make_team("Updates")
    ours = [make_operation(team, celery_task_id=f"t{i}") for i in range(3)]
    stamp = PreparedUpdate(
        lambda pk, task_id, now: (Operation.objects.filter(pk=pk, celery_task_id=task_id), {"sent": now}),
        "pk",
        text=("task_id",),
        moments=("now",),
    )
    now = timezone.now()
    assert stamp(pk=ours[0].pk, task_id="t0", now=now) == 1
    assert stamp(pk=ours[1].pk, task_id="t0", now=now) == 0  # not its task id
    assert [op.sent for op in Operation.objects.filter(pk__in=[op.pk for op in ours]).order_by("pk")] == [
        now,
        None,
        None,
    ]
    with pytest.raises(TypeError):
        stamp(pk=ours[2].pk, task_id="t2", now=now.replace(tzinfo=None))  # a naive datetime
    with pytest.raises(ImproperlyConfigured):  # a value that does not reach the query
        PreparedUpdate(lambda pk, now: (Operation.objects.filter(pk=pk), {"sent": None}), "pk", moments=("now",))(
            pk=1, now=now
        )


@pytest.mark.django_db(transaction=True)  # another thread's connection sees the rows
def test_compiled_once_per_process_each_thread_decodes_on_its_own_connection():
    team = make_team("Threads")
    network = make_network(team, "threads-net")
    query = PreparedObjects(lambda pk: Network.objects.filter(pk=pk).select_related("cluster"), "pk")
    (here,) = query(pk=network.pk)
    answers = {}

    def elsewhere():
        try:
            (there,) = query(pk=network.pk)
            answers["there"] = (fields(there), fields(there.cluster), query.local.default[3].connection)
            answers["own"] = connections["default"]
            answers["converters"] = query.local.default[3].converters
        finally:
            connections["default"].close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert answers["there"][:2] == (fields(here), fields(here.cluster))
    assert answers["there"][2] is answers["own"] and answers["own"] is not connections["default"]
    assert len(query.shared) == 1  # compiled once
    # worked out once, when compiled: a new thread does not work them out again for its first answers
    assert answers["converters"] and answers["converters"] is query.shared["default"][3].converters


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


def test_where_a_datetime_is_written_as_text_the_query_is_the_orms_own(monkeypatch):
    """SQLite (`make run`'s database) writes a datetime as text, so a stand-in moment never reaches its query
    as it is: there the query is not compiled, and each call runs the ORM's own, with the same answer. Run
    on any database by having its backend write a datetime as text, as SQLite's does."""
    team = make_team("Moments")
    operation = make_operation(team)
    moment = timezone.now()
    as_text = lambda value: None if value is None else value.isoformat()  # noqa: E731
    monkeypatch.setattr(connections["default"].ops, "adapt_datetimefield_value", as_text)
    stamp = PreparedUpdate(lambda pk, now: (Operation.objects.filter(pk=pk), {"sent": now}), "pk", moments=("now",))
    assert stamp(pk=operation.pk, now=moment) == 1
    assert stamp.shared["default"] is None  # not compiled: the ORM's update ran
    operation.refresh_from_db()
    assert operation.sent == moment

    ignored = PreparedUpdate(lambda pk, now: (Operation.objects.filter(pk=pk), {"sent": None}), "pk", moments=("now",))
    with pytest.raises(ImproperlyConfigured):  # a moment that reaches the query in no form is still refused
        ignored(pk=operation.pk, now=moment)


@pytest.mark.django_db(transaction=True)  # outside a transaction, as a web process starts
def test_every_prepared_query_is_compiled_at_once_without_a_query_those_that_lock_inside_a_transaction():
    plain = PreparedRows(lambda pk: Cluster.objects.filter(pk=pk).values("name"), "pk")
    locking = PreparedRows(lambda pk: Cluster.objects.filter(pk=pk).select_for_update().values("name"), "pk")
    with CaptureQueriesContext(connection) as sent:
        compile_every()
    assert len(sent) == 0
    assert "default" in plain.shared  # compiled for the default database, before any call
    assert "default" not in locking.shared  # Django compiles a lock only inside a transaction
    with transaction.atomic(), CaptureQueriesContext(connection) as sent:
        compile_every()  # as a web process's ready() does, before it serves
    assert len(sent) == 0
    assert "default" in locking.shared
    cluster = make_team("Compiled early").cluster
    assert plain(pk=cluster.pk) == [{"name": cluster.name}]
    with transaction.atomic():
        assert locking(pk=cluster.pk) == [{"name": cluster.name}]
