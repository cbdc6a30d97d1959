"""Reconciles asked for at once (the events follower hearing many networks made on the CLI) are one
operation, one of everything is never answered by one of the networks only, and two reconciles running
side by side never import one network twice."""

import pytest

from networks.models import Network, Operation
from networks.services.reconcile import NETWORKS, _reconcile_made_outside, cluster_reconcile_request
from tests.factories import make_network

pytestmark = pytest.mark.django_db


def test_a_waiting_reconcile_answers_every_request_until_a_worker_starts_it(team):
    first = cluster_reconcile_request(cluster=team.cluster)
    assert cluster_reconcile_request(cluster=team.cluster) == first
    assert Operation.objects.filter(kind=Operation.Kind.CLUSTER_RECONCILE).count() == 1
    Operation.objects.filter(pk=first.pk).update(status=Operation.Status.RUNNING)
    second = cluster_reconcile_request(cluster=team.cluster)  # the running one may have read the cluster already
    assert second != first and second.status == Operation.Status.QUEUED
    assert cluster_reconcile_request(cluster=team.cluster) == second


def test_a_waiting_reconcile_of_the_networks_answers_only_requests_it_covers(team):
    networks = cluster_reconcile_request(cluster=team.cluster, scope=NETWORKS)
    assert networks.params == {"scope": "networks"} and networks.target == f"{team.cluster.name} (its networks only)"
    assert cluster_reconcile_request(cluster=team.cluster, scope=NETWORKS) == networks
    everything = cluster_reconcile_request(cluster=team.cluster)  # staff's button, the periodic one
    assert everything != networks and everything.params == {"scope": "everything"}
    assert everything.target == team.cluster.name
    assert cluster_reconcile_request(cluster=team.cluster) == everything
    assert cluster_reconcile_request(cluster=team.cluster, scope=NETWORKS) in (networks, everything)
    assert Operation.objects.filter(kind=Operation.Kind.CLUSTER_RECONCILE).count() == 2


def swarm_network(docker_id: str, name: str, subnet: str) -> dict:
    """A network as `docker network inspect` shows one made on the CLI."""
    return {
        "Id": docker_id,
        "Name": name,
        "Driver": "overlay",
        "Labels": {},
        "IPAM": {"Config": [{"Subnet": subnet, "Gateway": subnet.replace("0/24", "1")}]},
    }


def test_a_network_another_reconcile_just_imported_is_left_as_it_is(team):
    """Both reconciles read Docker before either imported it: the second finds it imported, under the lock."""
    found = {"cli1": swarm_network("cli1", "made-on-cli", "10.9.0.0/24")}
    assert _reconcile_made_outside(team.cluster, found, {})[0] == [
        'Network "made-on-cli" was made outside the portal: imported as external, 10.9.0.0/24 blocked.'
    ]
    assert _reconcile_made_outside(team.cluster, found, {})[0] == []  # not a duplicate row, not a failed operation
    assert Network.objects.filter(cluster=team.cluster, name="made-on-cli").live().count() == 1


def test_a_cli_network_named_as_a_portal_network_is_left_alone(team):
    make_network(team, "web")
    found = {"cli2": swarm_network("cli2", "web", "10.9.1.0/24")}
    assert _reconcile_made_outside(team.cluster, found, {})[0] == [
        'Network "web" on the cluster shares a name with a portal network; left alone.'
    ]
