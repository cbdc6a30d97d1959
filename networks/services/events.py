"""Follow the cluster when it changes outside the portal, from Docker's own events.

Someone runs `docker stop web` or `docker network rm` on a node: the follower
(`manage.py follow_events`) hears the event, `event_follow_up` decides whether it matters, and the
worker runs `container_follow` or `network_follow`. Both read Docker's current state instead of
trusting the event, so late, repeated or reordered events are harmless. Work the portal itself
is doing is left to its operation, which records the result.

The follower records on each node how far it has handled the node's events (`events_seen_until`), and
a restarted follower resumes from there, so a change made while it was down shows within seconds of
its return; it never looks further back than a reconcile's interval: the periodic reconcile stays as
the safety net for anything older.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q

from networks import labels as docker_labels
from networks.engine import docker as docker_engine
from networks.models import Cluster, Container, Network, Node, Operation

from .containers.state import container_refresh
from .containers.system import system_containers_sync
from .endpoints import endpoint_refresh, endpoint_remove
from .reconcile import NETWORKS, cluster_reconcile_request

# "die" covers stop, kill and a crash; "destroy" is `docker rm`.
CONTAINER_ACTIONS = frozenset({"start", "die", "destroy", "pause", "unpause", "rename"})
ENDPOINT_ACTIONS = frozenset({"connect", "disconnect"})
# A swarm network's own life, as the manager reports it (scope "swarm"); the nodes' "create" and
# "destroy" of their local copies (scope "local") only follow containers coming and going.
NETWORK_ACTIONS = frozenset({"create", "remove"})


def resume_point(seen_until: datetime | None, *, now: float, catch_up: float) -> int:
    """The Unix time a node's events are read from when the follower starts (pure: no I/O).

    Where it last got to, but never more than `catch_up` seconds back (an old mark must not replay
    days of events: the reconcile has long covered them) nor in the future (a clock set back);
    now for a node it never followed.
    """
    if seen_until is None:
        return int(now)
    return int(min(now, max(seen_until.timestamp(), now - catch_up)))


def node_events_resume_at(*, node_id: int, now: float, catch_up: float) -> int:
    """Where the follower resumes the node's events (see resume_point), recorded at once as handled so
    far: a follower stopped before it finished its first window still resumes from its start."""
    seen_until = Node.objects.filter(pk=node_id).values_list("events_seen_until", flat=True).first()
    since = resume_point(seen_until, now=now, catch_up=catch_up)
    node_events_handled(node_id=node_id, until=since)
    return since


def node_events_handled(*, node_id: int, until: int) -> None:
    """The node's events up to `until` (a Unix time) are handled: a restarted follower starts there."""
    Node.objects.filter(pk=node_id).update(events_seen_until=datetime.fromtimestamp(until, tz=UTC))


@dataclass(frozen=True)
class FollowUp:
    kind: str  # "container", "network" or "health" (a swarm node went down or came back)
    docker_id: str
    is_system: bool = False
    created_as: str = ""  # a swarm network's create: the name it was created with


def event_follow_up(event: dict, *, from_manager: bool) -> FollowUp | None:
    """What a Docker event asks the portal to look at again, if anything (pure: no I/O).

    Networks are swarm-wide: their create and remove come from a manager with scope "swarm".
    Several managers each report them; `network_follow` starts one reconcile for all of them.
    A swarm node's state change (ready, down) also comes from a manager: the cluster's health is
    asked again, so the dashboard shows a node down as soon as the swarm knows.
    """
    kind, action = event.get("Type"), event.get("Action") or ""
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    if kind == "container" and action in CONTAINER_ACTIONS and actor.get("ID"):
        return FollowUp("container", actor["ID"], is_system=attributes.get(docker_labels.SYSTEM) == "true")
    if kind == "network" and action in ENDPOINT_ACTIONS and attributes.get("container"):
        return FollowUp("container", attributes["container"])
    if kind == "network" and action in NETWORK_ACTIONS and from_manager and event.get("scope") == "swarm":
        return FollowUp(
            "network", actor.get("ID", ""), created_as=attributes.get("name", "") if action == "create" else ""
        )
    if kind == "node" and from_manager and event.get("scope") == "swarm" and "state.new" in attributes:
        return FollowUp("health", actor.get("ID", ""))  # {"state.old": "ready", "state.new": "down"}
    return None


def follow_up_is_own_create(*, cluster_id: int, follow_up: FollowUp) -> bool:
    """A swarm network's create that the portal itself made: a network of that name on the cluster is
    still creating, or the portal has already recorded the network under that Docker id (the event
    often arrives after the worker has finished). Its operation records it, so no worker need look:
    one index lookup in the follower instead of a task, queries and a Docker call for each network
    the portal creates.

    A network made on the CLI under that very name in that very moment is left to the periodic reconcile.
    """
    if not follow_up.created_as:
        return False
    own = Q(name=follow_up.created_as, status=Network.Status.CREATING)
    if follow_up.docker_id:
        own |= Q(docker_id=follow_up.docker_id)
    return Network.objects.filter(own, cluster_id=cluster_id).exists()


class FollowLater(Exception):
    """An operation of the portal's is changing the object right now: look again once it is done.

    (Its own events are then seen to change nothing; a change made on the CLI meanwhile is not lost.)
    """


def _wait_for_operations(**target) -> None:
    if Operation.objects.filter(**target).unfinished().exists():
        raise FollowLater(str(target))


def container_follow(*, cluster: Cluster, docker_id: str, is_system: bool = False) -> list[str]:
    """Copy one container's state from Docker after an event; returns what changed, in words."""
    if is_system:
        system_containers_sync(cluster=cluster)
        return []
    container = (
        Container.objects.filter(cluster=cluster, docker_id=docker_id, is_system=False)
        .present()
        .select_related("cluster", "node", "tenant")
        .first()
    )
    if container is None or container.node is None:
        return []  # not the portal's, or already gone
    _wait_for_operations(container=container)
    if container.status in (Container.Status.CREATING, Container.Status.REMOVING, Container.Status.FAILED):
        return []  # a run that failed, or one still being recovered: its operation's business, not Docker's
    changes = []
    change = container_refresh(container=container)
    if change:
        changes.append(change)
    if container.status == Container.Status.REMOVED:
        return changes
    attrs = docker_engine.inspect_container(container.node.docker, container.docker_id) or {}
    attached = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    for endpoint in container.endpoints.select_related("network__cluster", "container__node"):
        if endpoint.network.name in attached:
            endpoint_refresh(endpoint=endpoint, attrs=attrs)
        else:
            endpoint_remove(endpoint=endpoint, force=True, in_docker=False)
            changes.append(f"{container.name} was disconnected from {endpoint.network.name} outside the portal.")
    return changes


def network_follow(*, cluster: Cluster, docker_id: str) -> Operation | None:
    """A network appeared or went away on the cluster: reconcile its networks (a reconcile of scope
    NETWORKS), unless the portal did it itself."""
    network = Network.objects.filter(cluster=cluster, docker_id=docker_id).first()
    if network is not None:
        _wait_for_operations(network=network)
        if network.status != Network.Status.ACTIVE:
            return None  # the portal's own create or remove has recorded it
    # A reconcile still queued reads Docker after this event: it is the answer, at once. One already
    # running may have read the networks before it: look again once it is done (it will then have
    # imported or freed this one, or not, and a new one is started).
    reconciles = Operation.objects.filter(cluster=cluster, kind=Operation.Kind.CLUSTER_RECONCILE).unfinished()
    queued = reconciles.filter(status=Operation.Status.QUEUED).first()
    if queued is not None:
        return queued
    if reconciles.exists():
        raise FollowLater(f"a reconcile of {cluster.name} is running")
    found = docker_engine.find_networks(cluster.docker, id=docker_id)
    if network is not None and found:
        return None  # an event about a network the portal already knows as it is
    if network is None and (not found or (found[0].get("Labels") or {}).get(docker_labels.CLUSTER) == str(cluster.uid)):
        return None  # gone again, or the portal's own create before it recorded the id
    return cluster_reconcile_request(cluster=cluster, scope=NETWORKS)
