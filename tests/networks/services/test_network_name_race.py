"""Two teams asking for one network name on one swarm at the same moment: one gets it, the other is told
the name is taken (409 with its sentence), never the database's constraint (an IntegrityError, a 500).

The swarm's lock is held while both creates start, so both pass the checks made before the lock and
then queue for it: the interleaving that used to end in the constraint, every time.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from networks.models import Cluster, Network
from networks.services import queue
from networks.services.grants import cluster_grant
from networks.services.networks.create import network_create
from plumbing.errors import ServiceError
from portal.actors import Actor
from tests.factories import make_team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def nothing_reaches_a_worker(monkeypatch):
    """The creates' operations are recorded as sent but reach no worker: a worker an earlier test started
    would otherwise run them against a cluster of rows while the test database is being flushed (its
    TRUNCATE then deadlocked with the worker's reads)."""
    monkeypatch.setattr(queue, "send", lambda *args, **kwargs: None)


def test_two_teams_creating_one_name_at_once_get_one_network_and_one_sentence():
    if connection.vendor != "postgresql":
        pytest.skip("row locks that make two creates queue need PostgreSQL (SQLite takes one writer at a time)")
    owner, other = make_team(), make_team()
    cluster = owner.cluster
    cluster_grant(actor=Actor.system("tests"), cluster=cluster, tenant=other.tenant)
    started = threading.Barrier(3)

    def create(tenant):
        try:
            started.wait()
            return network_create(
                actor=Actor.system("tests"), tenant=tenant, cluster=cluster, name="payments"
            ).network_id
        except ServiceError as refusal:
            return refusal
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        with transaction.atomic():
            Cluster.objects.select_for_update().get(pk=cluster.pk)  # the swarm's lock, as a create takes it
            answers = [pool.submit(create, team.tenant) for team in (owner, other)]
            started.wait()
            # Both are past their checks and wait for the lock (or about to).
            threading.Event().wait(0.5)
        results = [answer.result(timeout=30) for answer in answers]

    made = [result for result in results if isinstance(result, int)]
    refused = [result for result in results if isinstance(result, ServiceError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "name_taken" and refused[0].http_status == 409
    assert (
        refused[0].message == f'A network named "payments" already exists on cluster {cluster.name}. Pick another name.'
    )
    assert Network.objects.filter(cluster=cluster, name="payments").count() == 1
