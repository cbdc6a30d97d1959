"""What the follower's handlers do before they ask Docker anything (the database alone, no cluster).

An event about something an operation of the portal's is changing is looked at again once the
operation is done; one about something the portal does not know ends there.
"""

import pytest

from networks.models import Container, Operation
from networks.services.events import FollowLater, container_follow, network_follow
from tests.factories import make_container, make_network, make_operation

pytestmark = pytest.mark.django_db


def test_a_container_an_operation_is_changing_is_looked_at_again_later(team):
    web = make_container(team, "web")
    stop = make_operation(team, Operation.Kind.CONTAINER_STOP, target="web", container=web)
    with pytest.raises(FollowLater):
        container_follow(cluster=team.cluster, docker_id=web.docker_id)
    Operation.objects.filter(pk=stop.pk).update(status=Operation.Status.SUCCEEDED)
    Container.objects.filter(pk=web.pk).update(status=Container.Status.FAILED)
    assert container_follow(cluster=team.cluster, docker_id=web.docker_id) == []  # failed runs are left alone


def test_a_network_an_operation_is_changing_is_looked_at_again_later(team):
    network = make_network(team, "web")
    make_operation(team, Operation.Kind.NETWORK_REMOVE, target="web", network=network)
    with pytest.raises(FollowLater):
        network_follow(cluster=team.cluster, docker_id=network.docker_id)


def test_containers_the_portal_does_not_know_end_there(team, other_team):
    theirs = make_container(other_team, "theirs")
    assert container_follow(cluster=team.cluster, docker_id="0" * 64) == []
    assert container_follow(cluster=team.cluster, docker_id=theirs.docker_id) == [], "another cluster's container"
    gone = make_container(team, "gone", status=Container.Status.REMOVED)
    assert container_follow(cluster=team.cluster, docker_id=gone.docker_id) == []


def test_a_network_event_is_answered_by_a_reconcile_that_reads_docker_after_it(team):
    network = make_network(team, "web")
    queued = make_operation(team, Operation.Kind.CLUSTER_RECONCILE, target=team.cluster.name)
    # Known, active, and (this cluster is only rows) not on Docker any more: a reconcile is due. The one
    # queued has read nothing yet: it is the answer, without waiting for it.
    assert network_follow(cluster=team.cluster, docker_id=network.docker_id) == queued
    # One running may have read the networks already, so this one waits for it.
    Operation.objects.filter(pk=queued.pk).update(status=Operation.Status.RUNNING)
    with pytest.raises(FollowLater):
        network_follow(cluster=team.cluster, docker_id=network.docker_id)
