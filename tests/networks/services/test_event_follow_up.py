"""Which Docker events the portal follows up, on event shapes recorded from the local cluster's engines."""

import pytest

from networks.models import Network
from networks.services.events import FollowUp, event_follow_up, follow_up_is_own_create
from tests.factories import make_network

CONTAINER = "bc58b9db376c06510c4a5b833594119befc19a102fd2a4ebb3df006d1dd71d49"
NETWORK = "6mxckgmhefplepgayd8rxr1u7"


def container_event(action, **attributes):
    return {
        "Type": "container",
        "Action": action,
        "scope": "local",
        "Actor": {"ID": CONTAINER, "Attributes": {"name": "web", "image": "tools", **attributes}},
    }


def network_event(action, scope="local", **attributes):
    return {
        "Type": "network",
        "Action": action,
        "scope": scope,
        "Actor": {"ID": NETWORK, "Attributes": {"name": "mynetwork", **attributes}},
    }


@pytest.mark.parametrize("action", ["start", "die", "destroy", "pause", "unpause", "rename"])
def test_container_state_changes_refresh_the_container(action):
    assert event_follow_up(container_event(action), from_manager=False) == FollowUp("container", CONTAINER)


@pytest.mark.parametrize("action", ["create", "kill", "stop", "exec_start: sh -c nslookup db", "exec_die", "attach"])
def test_noise_is_ignored(action):
    # "die" follows every stop and kill, so those two add nothing; exec events are diagnostics.
    assert event_follow_up(container_event(action), from_manager=True) is None


def test_a_system_container_is_recognised_by_its_label():
    event = container_event("die", **{"overlay-portal.system": "true"})
    assert event_follow_up(event, from_manager=False) == FollowUp("container", CONTAINER, is_system=True)


@pytest.mark.parametrize("action", ["connect", "disconnect"])
def test_connect_and_disconnect_refresh_the_container_they_name(action):
    event = network_event(action, container=CONTAINER, type="overlay")
    assert event_follow_up(event, from_manager=False) == FollowUp("container", CONTAINER)


@pytest.mark.parametrize(("action", "created_as"), [("create", "mynetwork"), ("remove", "")])
def test_a_swarm_networks_life_is_followed_from_a_manager(action, created_as):
    event = network_event(action, scope="swarm")
    assert event_follow_up(event, from_manager=True) == FollowUp("network", NETWORK, created_as=created_as)
    assert event_follow_up(event, from_manager=False) is None


@pytest.mark.parametrize("action", ["create", "destroy"])
def test_a_nodes_local_copy_of_an_overlay_is_not_the_networks_life(action):
    event = network_event(action, type="overlay")
    assert event_follow_up(event, from_manager=True) is None


def test_update_and_other_types_are_ignored():
    assert event_follow_up(network_event("update", scope="swarm"), from_manager=True) is None
    assert event_follow_up({"Type": "image", "Action": "pull", "Actor": {"ID": "x"}}, from_manager=True) is None
    assert event_follow_up({}, from_manager=True) is None


def test_a_swarm_node_going_down_or_coming_back_asks_for_the_clusters_health():
    # As the manager reported it when node2's dockerd stopped answering, then came back.
    event = {
        "Type": "node",
        "Action": "update",
        "scope": "swarm",
        "Actor": {
            "ID": "7bht8v8t8749mib0y3exhbqib",
            "Attributes": {"name": "node2", "state.new": "down", "state.old": "ready"},
        },
    }
    assert event_follow_up(event, from_manager=True) == FollowUp("health", "7bht8v8t8749mib0y3exhbqib")
    assert event_follow_up(event, from_manager=False) is None
    availability = {**event, "Actor": {"ID": "x", "Attributes": {"name": "node2", "availability.new": "drain"}}}
    assert event_follow_up(availability, from_manager=True) is None


def test_the_create_of_a_network_the_portal_is_making_needs_no_worker(team):
    """The follower drops it (the operation records the network), while it is creating and once it is
    recorded; anything else about it still goes on."""
    network = make_network(team, "mynetwork", status=Network.Status.CREATING)
    created = event_follow_up(network_event("create", scope="swarm"), from_manager=True)
    removed = event_follow_up(network_event("remove", scope="swarm"), from_manager=True)
    assert follow_up_is_own_create(cluster_id=team.cluster.pk, follow_up=created)
    assert not follow_up_is_own_create(cluster_id=team.cluster.pk, follow_up=removed)
    assert not follow_up_is_own_create(cluster_id=team.cluster.pk + 1, follow_up=created)
    network.status = Network.Status.ACTIVE
    network.save(update_fields=["status"])
    assert not follow_up_is_own_create(cluster_id=team.cluster.pk, follow_up=created)
    # The event arrives once the worker has recorded the network's id: still the portal's own.
    network.docker_id = NETWORK
    network.save(update_fields=["docker_id"])
    assert follow_up_is_own_create(cluster_id=team.cluster.pk, follow_up=created)
    assert not follow_up_is_own_create(cluster_id=team.cluster.pk, follow_up=removed)
    assert not follow_up_is_own_create(cluster_id=team.cluster.pk + 1, follow_up=created)
    # A network made on the CLI (an id the portal does not know) is followed.
    other = event_follow_up(
        {**network_event("create", scope="swarm"), "Actor": {"ID": "cli", "Attributes": {"name": "other"}}},
        from_manager=True,
    )
    assert not follow_up_is_own_create(cluster_id=team.cluster.pk, follow_up=other)
