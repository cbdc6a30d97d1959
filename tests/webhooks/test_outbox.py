"""The outbox: a change writes one delivery per endpoint of its team that asked for its event, in the
change's own transaction (rolled back together), with the object as the API shows it and no secret."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from networks.models import Operation
from networks.services.networks.create import network_create
from networks.services.operations import operation_fail, operation_start, operation_succeed
from plumbing.server_prepared import readable
from portal.actors import Actor
from portal.changes import change_record, changes_foreseen
from tests.factories import make_operation
from webhooks.models import WebhookDelivery
from webhooks.services.endpoints import endpoint_create

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"


def endpoint(team, events):
    return endpoint_create(actor=Actor.system("tests"), tenant=team.tenant, url=URL, events=events)[0]


def test_a_change_writes_a_delivery_for_each_endpoint_that_wants_it(team, other_team):
    networks_hook, operations_hook = endpoint(team, ["network.*"]), endpoint(team, ["operation.failed"])
    foreign = endpoint(other_team, ["network.*"])
    network = team.network("blue")  # network.create, by the service
    [delivery] = WebhookDelivery.objects.filter(endpoint=networks_hook)
    body = delivery.payload
    assert (delivery.event_type, body["type"], body["team"], body["id"]) == (
        "network.create",
        "network.create",
        team.tenant.slug,
        delivery.message_id,
    )
    assert body["data"]["object"]["name"] == "blue" and body["data"]["object"]["id"] == network.pk
    assert body["data"]["object"]["subnet"] == network.subnet and body["data"]["object"]["owner"] == team.tenant.slug
    assert not WebhookDelivery.objects.filter(endpoint__in=[operations_hook, foreign]).exists()


def test_a_change_rolled_back_leaves_no_delivery(team):
    hook = endpoint(team, ["network.*"])
    with pytest.raises(RuntimeError), transaction.atomic():
        change_record(actor=Actor.system("tests"), action="network.create", tenant=team.tenant)
        assert WebhookDelivery.objects.filter(endpoint=hook).count() == 1
        raise RuntimeError("refused")
    assert not WebhookDelivery.objects.filter(endpoint=hook).exists()


def test_secret_environment_values_never_reach_a_body(team):
    hook = endpoint(team, ["container.run"])
    team.container("db", environment=[{"name": "DB_PASSWORD", "value": "s3cr3t-value", "secret": True}])
    [delivery] = WebhookDelivery.objects.filter(endpoint=hook)
    assert "s3cr3t-value" not in str(delivery.payload)
    assert delivery.payload["data"]["object"]["name"] == "db"


def test_operations_that_finish_are_events(team):
    hook = endpoint(team, ["operation.*"])
    done, failed = make_operation(team), make_operation(team)
    for operation in (done, failed):
        operation_start(operation_id=operation.pk, task_id=operation.celery_task_id)
    operation_succeed(operation=done, message="Done.")
    operation_fail(operation_id=failed.pk, error="The cluster refused it.", code="refused")
    bodies = [d.payload for d in WebhookDelivery.objects.filter(endpoint=hook).order_by("pk")]
    assert [b["type"] for b in bodies] == ["operation.succeeded", "operation.failed"]
    assert bodies[1]["data"]["object"]["status"] == Operation.Status.FAILED
    assert bodies[1]["data"]["object"]["error"] == "The cluster refused it."
    assert bodies[1]["data"]["details"]["error_code"] == "refused"


def test_endpoints_read_ahead_serve_their_own_team_only(team, other_team):
    """changes_foreseen reads the team's endpoints before a lock (a create's): its change reads none under it;
    another team's change in the same block reads its own."""
    hook, foreign = endpoint(team, ["network.*"]), endpoint(other_team, ["network.*"])
    actor = Actor.system("tests")
    with transaction.atomic(), changes_foreseen(tenant=team.tenant):
        with CaptureQueriesContext(connection) as queries:
            change_record(actor=actor, action="network.create", tenant=team.tenant)
        assert not [query for query in queries if 'FROM "webhooks_webhookendpoint"' in query["sql"]]
        change_record(actor=actor, action="network.create", tenant=other_team.tenant)
    assert WebhookDelivery.objects.filter(endpoint=hook).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=foreign).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes each row at once")
@pytest.mark.django_db(transaction=True)
def test_a_create_commits_with_its_rows_only_when_no_outbox_waits_for_them(team, other_team):
    """A create's rows go with its COMMIT (plumbing/writes.py `send(commit=True)`) when its team has no endpoint
    to record a delivery for; with one, the delivery is written after the rows, in the same transaction."""
    hook = endpoint(team, ["network.*"])
    for owner, name in ((team, "hooked"), (other_team, "unhooked")):
        sqls: list[str] = []

        def note(execute, sql, params, many, context, sqls=sqls):
            sqls.append(readable(sql))  # a prepared statement's EXECUTE as the statement
            return execute(sql, params, many, context)

        with connection.execute_wrapper(note):
            network_create(actor=Actor.system("tests"), tenant=owner.tenant, cluster=owner.cluster, name=name)
        folded = [sql for sql in sqls if sql.endswith("; COMMIT")]
        if owner is team:
            assert not folded and any('INSERT INTO "webhooks_webhookdelivery"' in sql for sql in sqls)
        else:
            assert len(folded) == 1 and 'INSERT INTO "networks_network"' in folded[0]
    [delivery] = WebhookDelivery.objects.filter(endpoint=hook)
    assert delivery.payload["data"]["object"]["name"] == "hooked"
