"""A Celery task goes through the real Redis to a real worker process and changes the database."""

import pytest

from networks.models import Node
from networks.tasks import cluster_refresh_health_task
from portal.services import tenant_create
from tests.factories import register_local

pytestmark = [pytest.mark.cluster, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_health_task_round_trip_marks_nodes_ready(celery_worker_process, cluster_description):
    tenant = tenant_create(name="Roundtrip")
    cluster = register_local(tenant, cluster_description)
    assert set(cluster.nodes.values_list("state", flat=True)) == {Node.State.UNKNOWN}

    result = cluster_refresh_health_task.delay(cluster.pk).get(timeout=60)

    assert result["nodes_ready"] == result["nodes_total"] == len(cluster_description["nodes"])
    assert result["consul_leader"] is True
    assert sorted(result["consul_alive"]) == sorted(n["name"] for n in cluster_description["nodes"])
    assert set(cluster.nodes.values_list("state", flat=True)) == {Node.State.READY}
