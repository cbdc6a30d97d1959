"""What an owner sees on the real cluster: a network made, a run that fails and the network removed reach
the team's receiver signed, in the order they happened, each with the object as the API shows it."""

from __future__ import annotations

import pytest

from networks.models import Operation
from networks.services.containers.run import container_run
from networks.services.networks.create import network_create
from networks.services.networks.remove import network_remove
from portal.actors import Actor
from tests.support import first_team, wait_for_operation, wait_until
from webhooks.models import WebhookDelivery
from webhooks.services.endpoints import endpoint_create

pytestmark = [pytest.mark.cluster, pytest.mark.worker]


def test_create_a_failed_run_and_a_removal_arrive_signed_in_order(
    tenant_cluster, celery_worker_process, webhook_receiver
):
    team, actor = first_team(tenant_cluster), Actor.system("tests")
    endpoint, secret = endpoint_create(
        actor=actor, tenant=team, url=webhook_receiver.url, events=["network.*", "container.*", "operation.*"]
    )
    webhook_receiver.secrets.append(secret)
    made = wait_for_operation(network_create(actor=actor, tenant=team, cluster=tenant_cluster, name="hooked"))
    assert made.status == Operation.Status.SUCCEEDED, made.error
    failed = wait_for_operation(
        container_run(
            actor=actor,
            tenant=team,
            cluster=tenant_cluster,
            name="never",
            image="127.0.0.1:9/nothing/here:latest",  # a registry nobody serves: the pull fails
            networks=[{"network": made.network}],
        )
    )
    assert failed.status == Operation.Status.FAILED
    removed = wait_for_operation(network_remove(actor=actor, tenant=team, network=made.network))
    assert removed.status == Operation.Status.SUCCEEDED, removed.error

    expected = [
        "network.create",
        "operation.succeeded",
        "container.run",
        "operation.failed",
        "network.remove",
        "operation.succeeded",
    ]
    wait_until(lambda: len(webhook_receiver.delivered()) >= len(expected), timeout=60)
    got = webhook_receiver.delivered()
    assert [r.event_type for r in got] == expected
    assert all(r.verified for r in webhook_receiver.received)
    assert [r.message_id for r in got] == list(
        WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk").values_list("message_id", flat=True)
    )
    assert got[0].body["data"]["object"]["name"] == "hooked" and got[0].body["team"] == team.slug
    assert got[3].body["data"]["object"]["kind"] == failed.kind and got[3].body["data"]["object"]["error"]
