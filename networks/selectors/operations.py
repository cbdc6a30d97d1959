"""A team's operations and what the workers are doing: lists with the work ahead counted, one by id,
what an unfinished operation waits for (in words, from its `waits_on` field), and whether a page of
networks or containers, or a cluster, is still being changed."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from networks.models import Cluster, Container, Network, Operation, OperationQuerySet
from plumbing.prepared import PreparedRows
from portal.models import Tenant


def operations_ahead() -> Case:
    """For a queued operation that reached the task queue: how many unfinished operations came before it
    (of every team: they share the workers). NULL for any other, so the count runs only where it is told."""
    earlier = (
        Operation.objects.unfinished()
        .filter(created__lt=OuterRef("created"))
        .order_by()
        .values(everything=Value(1))
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Case(
        When(status=Operation.Status.QUEUED, sent__isnull=False, then=Coalesce(Subquery(earlier), 0)),
        default=None,
        output_field=IntegerField(),
    )


def operation_list(*, tenant: Tenant) -> OperationQuerySet:
    """The tenant's operations, each with `ahead` counted for `operation_waiting_for` in the same query."""
    return (
        Operation.objects.filter(tenant=tenant)
        .select_related("cluster", "network", "container", "requested_by")
        .annotate(ahead=operations_ahead())
    )


# What the API shows of an operation, as `values()` columns (OperationSerializer.columns(), in its order): no
# model instances, no related rows but the requester's name.
OPERATION_COLUMNS = (
    "id", "kind", "status", "target", "cluster", "network", "container", "params", "progress", "transfer",
    "result", "error", "error_code", "requested_by__username", "attempts", "created", "started", "finished",
    "waits_on", "waiting_since", "sent",
)  # fmt: skip


_ATTRIBUTES = {"cluster": "cluster_id", "network": "network_id", "container": "container_id"}


def operation_as_row(operation: Operation) -> dict:
    """An operation already read (or just made) as a row of `operation_rows`, without reading it again."""
    row = {column: getattr(operation, _ATTRIBUTES.get(column, column), None) for column in OPERATION_COLUMNS}
    user = operation.requested_by
    row["requested_by__username"] = None if user is None else user.username
    row["ahead"] = getattr(operation, "ahead", None)
    return row


def operation_rows(*, tenant: Tenant):
    """`operation_list` as rows of OPERATION_COLUMNS and `ahead`: the same operations, the same count."""
    return (
        Operation.objects.filter(tenant=tenant).annotate(ahead=operations_ahead()).values(*OPERATION_COLUMNS, "ahead")
    )


def _operation_row_query(*, tenant: int, pk: int):
    return Operation.objects.filter(tenant=tenant, pk=pk).values(*OPERATION_COLUMNS).order_by()


_operation_row = PreparedRows(_operation_row_query, "tenant", "pk")  # compiled once (plumbing/prepared.py)


def operation_row_get(*, tenant: Tenant, pk: int) -> dict:
    """`operation_get` as a row of OPERATION_COLUMNS, `ahead` None (counted by `waiting_for` only while the
    operation is queued); Http404 for a missing or foreign one."""
    rows = _operation_row(tenant=tenant.pk, pk=int(pk))
    if not rows:
        raise Http404
    return {**rows[0], "ahead": None}


def operation_get(*, tenant: Tenant, pk: int) -> Operation:
    """One of the tenant's operations. Without `operation_list`'s count of the work ahead in the query (a
    subquery that costs every look at an operation, and the pages and scripts that follow one look often):
    `operation_waiting_for` counts it only while the operation is queued."""
    operations = Operation.objects.filter(tenant=tenant).select_related(
        "cluster", "network", "container", "requested_by"
    )
    return get_object_or_404(operations, pk=pk)


def operation_find(*, tenant: Tenant, pk: int) -> Operation | None:
    return Operation.objects.filter(pk=pk, tenant=tenant).first()


# Waits a worker sits out by trying again, and what each names in the sentence.
RETRIED_WAITS: dict[str, str] = {
    Operation.WaitsOn.CLUSTER: "the cluster",
    Operation.WaitsOn.STATE_STORE: "the cluster's state store (Consul)",
    Operation.WaitsOn.DATABASE: "the portal's database",
}


def operation_waiting_for(*, operation: Operation) -> str:
    """What an unfinished operation waits for, in words, from its `waits_on` field; "" when it is not
    waiting. One count at most, no broker call."""
    return waiting_for(
        status=operation.status,
        waits_on=operation.waits_on,
        waiting_since=operation.waiting_since,
        sent=operation.sent,
        created=operation.created,
        ahead=getattr(operation, "ahead", None),
    )


def waiting_for(*, status: str, waits_on: str, waiting_since, sent, created, ahead: int | None) -> str:
    """`operation_waiting_for` from an operation's fields (a row of `operation_rows`): `ahead` None when it
    was not counted in the query (then counted here, only while the operation is queued and sent)."""
    if status in Operation.FINISHED:
        return ""
    if waits_on in RETRIED_WAITS:
        since = waiting_since or timezone.now()
        seconds = max(0, round((timezone.now() - since).total_seconds()))
        return (
            f"Waiting for {RETRIED_WAITS[waits_on]} to answer: no answer for {seconds} s (since {since:%H:%M:%S} "
            "UTC). The operation goes on as soon as it answers; the worker keeps trying with growing pauses."
        )
    if status != Operation.Status.QUEUED:
        return ""
    if waits_on == Operation.WaitsOn.TASK_QUEUE:
        return "Waiting for the task queue: it does not answer. The operation is sent as soon as it does."
    if sent is None:
        return "Being handed to the task queue."
    if ahead is None:  # not counted in the query (operation_list, operation_rows)
        ahead = Operation.objects.unfinished().filter(created__lt=created).count()
    if ahead:
        return f"Waiting for a worker: it is busy with {ahead} operation{'s' if ahead != 1 else ''} ahead of this one."
    return "Waiting for a worker to pick it up."


def work_in_progress(objects) -> bool:
    """Whether the worker is still changing any of these networks or containers (a page of a list).

    Lists keep refreshing themselves while this holds, so a row turns from "Creating" to "Active"
    (or from "Running" to "Exited" after a stop) without a reload.
    """
    objects = list(objects)
    if not objects:
        return False
    busy = {Network.Status.CREATING, Network.Status.REMOVING, Container.Status.CREATING, Container.Status.REMOVING}
    if any(obj.status in busy for obj in objects):
        return True
    field = "network" if isinstance(objects[0], Network) else "container"
    return Operation.objects.unfinished().filter(**{f"{field}__in": [obj.pk for obj in objects]}).exists()


def cluster_work_in_progress(*, cluster: Cluster) -> bool:
    """Whether the worker is changing anything on the cluster (its pictures then refresh faster)."""
    return Operation.objects.filter(cluster=cluster).unfinished().exists()
