"""The last step of a batch's slice run together (services/networks/run_together.py): the networks made
active and their creates succeeded in a few statements for all, one `operation.succeeded` change each (webhooks
and the audit log hear of every operation, as after a single create), and a network that may not become active
(given up by staff meanwhile) handled alone with its reason while the others go on.

The slice's Docker and Consul steps are left out (test_run_together.py runs them on the real cluster): these
start a batch's operations as the worker does and give each network the id Docker would have given it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from networks.models import Cluster, Network, Operation
from networks.services import notices, operations_send
from networks.services.networks.batch import BatchItem, networks_create_batch
from networks.services.networks.create_run import network_activate, network_create_end
from networks.services.networks.run_together import networks_activate_together
from networks.services.operation_notes import operations_progress
from networks.services.operations import OperationNotStartable, operation_fail, operations_start
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.models import AuditEntry
from tests.support import row_locked_elsewhere
from webhooks.models import WebhookDelivery
from webhooks.services.endpoints import endpoint_create

pytestmark = pytest.mark.django_db


def started_slice(team, count: int, prefix: str = "slice") -> list[Operation]:
    """A batch of `count` networks, its operations started by one task as a worker starts a slice, each
    network with its Docker id in memory (what the run learnt from Docker)."""
    outcomes = networks_create_batch(
        actor=Actor.system("tests"),
        tenant=team.tenant,
        items=[
            BatchItem(index=i, name=f"{prefix}{i}", cluster=team.cluster, fields={"name": f"{prefix}{i}"})
            for i in range(count)
        ],
    )
    assert [outcome.error for outcome in outcomes] == [None] * count
    queued = [outcome.operation for outcome in outcomes if outcome.operation is not None]
    operations = operations_start(operation_ids=[op.pk for op in queued], task_id=queued[0].celery_task_id)
    assert len(operations) == count
    for i, operation in enumerate(operations):
        operation.network_required().docker_id = f"{i:064x}"
    return operations


def activate(operations: list[Operation]) -> list[tuple[Operation, BaseException]]:
    failed: list[tuple[Operation, BaseException]] = []
    networks_activate_together(operations=operations, failed=lambda operation, error: failed.append((operation, error)))
    return failed


def succeeded_changes(operations: list[Operation]) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(action="operation.succeeded", object_id__in=[str(op.pk) for op in operations])
    )


def test_a_slice_is_made_active_and_succeeded_with_one_change_and_one_webhook_each(team):
    hook = endpoint_create(
        actor=Actor.system("tests"), tenant=team.tenant, url="http://127.0.0.1:9/h", events=["operation.*", "network.*"]
    )[0]
    operations = started_slice(team, 3)

    assert activate(operations) == []

    for operation in operations:
        operation.refresh_from_db()
        network = Network.objects.get(pk=operation.network_id)
        assert (network.status, network.docker_id) == (Network.Status.ACTIVE, operation.network_required().docker_id)
        assert operation.status == Operation.Status.SUCCEEDED and operation.finished is not None
        assert operation.result == {"id": network.docker_id}
        assert operation.progress[-1]["message"] == f"Network {network.name} is active: {network.docker_id}"
        assert operation.waits_on == Operation.WaitsOn.NOTHING
    changes = succeeded_changes(operations)
    assert sorted(int(c.object_id) for c in changes) == sorted(op.pk for op in operations)
    assert {(c.actor, c.tenant_id, c.object_type) for c in changes} == {
        ("worker", team.tenant.pk, "networks.operation")
    }
    assert [c.details for c in sorted(changes, key=lambda c: int(c.object_id))] == [
        {"kind": "network.create", "target": op.target} for op in operations
    ]
    deliveries = WebhookDelivery.objects.filter(endpoint=hook, event_type="operation.succeeded")
    bodies = sorted((d.payload["data"]["object"] for d in deliveries), key=lambda shown: shown["id"])
    assert [(b["id"], b["status"], b["result"]) for b in bodies] == [
        (op.pk, "succeeded", {"id": op.network_required().docker_id}) for op in operations
    ]


def test_a_network_given_up_mid_slice_fails_alone_and_the_others_are_made(team):
    operations = started_slice(team, 4)
    given_up = operations[1]
    # what staff's give-up leaves (runners.operation_give_up): the network failed, then its operation
    Network.objects.filter(pk=given_up.network_id).update(status=Network.Status.FAILED)
    operation_fail(operation_id=given_up.pk, error="An admin stopped waiting.", code="given_up")

    [(operation, error)] = activate(operations)

    assert operation is given_up
    assert isinstance(error, ServiceError) and error.code == "bad_state"
    assert Network.objects.get(pk=given_up.network_id).status == Network.Status.FAILED
    assert Operation.objects.get(pk=given_up.pk).error_code == "given_up"
    others = [op for op in operations if op is not given_up]
    assert {Operation.objects.get(pk=op.pk).status for op in others} == {Operation.Status.SUCCEEDED}
    assert {Network.objects.get(pk=op.network_id).status for op in others} == {Network.Status.ACTIVE}
    assert sorted(int(c.object_id) for c in succeeded_changes(operations)) == [op.pk for op in others]


def test_an_operation_no_longer_running_leaves_its_network_creating(team):
    """Given up between its two steps (its operation failed, its network not yet): the single step refuses
    it, and nothing of its activation is kept."""
    operations = started_slice(team, 3)
    stopped = operations[2]
    operation_fail(operation_id=stopped.pk, error="An admin stopped waiting.", code="given_up")

    [(operation, error)] = activate(operations)

    assert operation is stopped and isinstance(error, OperationNotStartable)
    assert Network.objects.get(pk=stopped.network_id).status == Network.Status.CREATING
    assert Operation.objects.get(pk=stopped.pk).status == Operation.Status.FAILED
    assert {Operation.objects.get(pk=op.pk).status for op in operations[:2]} == {Operation.Status.SUCCEEDED}
    assert len(succeeded_changes(operations)) == 2


def test_a_slice_costs_the_same_statements_whatever_its_size(team):
    endpoint_create(actor=Actor.system("tests"), tenant=team.tenant, url="http://127.0.0.1:9/h", events=["network.*"])
    counts = []
    for size in (2, 12):
        operations = started_slice(team, size, prefix=f"size{size}-")
        with CaptureQueriesContext(connection) as queries:
            assert activate(operations) == []
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_each_step_of_a_slice_sends_its_words_to_redis_at_once(team, monkeypatch, django_capture_on_commit_callbacks):
    """Its start, a note and its end each wake the waiters of every operation and network of the slice with
    one call to Redis (one pipeline), not one per operation."""
    sent: list[list[str]] = []
    monkeypatch.setattr(notices, "publish", lambda channels: sent.append(sorted(channels)))
    with django_capture_on_commit_callbacks(execute=True):
        operations = started_slice(team, 3)
    with django_capture_on_commit_callbacks(execute=True):
        operations_progress([(operation, "Creating.") for operation in operations])
    with django_capture_on_commit_callbacks(execute=True):
        assert activate(operations) == []

    words = sorted(
        name
        for op in operations
        for name in (notices.channel("operation", op.pk), notices.channel("network", op.network_id))
    )
    assert sent == [words, words, words]


@pytest.mark.django_db(transaction=True)  # the swarm's lock taken by another connection, as the web takes it
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_slice_is_made_active_while_the_web_holds_the_swarms_lock(team, monkeypatch):
    """The last step locks its networks' rows, not their cluster's: that row is the swarm's lock, which every
    create in the web holds while it allocates, so the workers' ends and the web's creates never wait for
    each other (the networks' ordering by their cluster's name took it with them)."""
    # The batch commits here: its messages are kept from the session's worker (test_run_together.py's runs
    # reach it), which would start the slice before this test does.
    monkeypatch.setattr(operations_send, "operations_send", lambda sending: 0)
    operations = started_slice(team, 2)

    with row_locked_elsewhere(Cluster, team.cluster.pk):
        assert activate(operations) == []

    assert {Network.objects.get(pk=op.network_id).status for op in operations} == {Network.Status.ACTIVE}


def test_a_single_creates_end_takes_no_savepoint_of_its_own(team):
    """create_run.network_activate, in the transaction that locked the network's row: the network made
    active and its operation succeeded with its change, in that transaction's statements alone; a refusal
    still leaves nothing of it behind (test_an_operation_no_longer_running_leaves_its_network_creating)."""
    [operation] = started_slice(team, 1)
    network = operation.network_required()

    with CaptureQueriesContext(connection) as queries:
        network_activate(operation=operation, network=network)

    assert [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"]] == []
    assert Operation.objects.get(pk=operation.pk).status == Operation.Status.SUCCEEDED
    assert Network.objects.get(pk=network.pk).status == Network.Status.ACTIVE
    assert len(succeeded_changes([operation])) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads go together on PostgreSQL only")
def test_a_single_creates_end_locks_its_network_and_operation_in_one_round_trip(team):
    """create_run.network_create_end: the network's row and the operation's locked and read in one statement
    sent (each was a round trip of its own), then the network active and its operation succeeded."""
    [operation] = started_slice(team, 1)

    with CaptureQueriesContext(connection) as queries:
        network_create_end(operation=operation, network=operation.network_required())

    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1 and '"networks_network"' in locks[0] and '"networks_operation"' in locks[0], locks
    assert Operation.objects.get(pk=operation.pk).status == Operation.Status.SUCCEEDED
    assert Network.objects.get(pk=operation.network_id).status == Network.Status.ACTIVE
    assert len(succeeded_changes([operation])) == 1
