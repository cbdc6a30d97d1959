"""The rule for an operation whose cluster's state store (Consul) does not answer: wait, then fail."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from networks.engine import EngineError
from networks.services.containers.system import system_containers_sync


def state_store_outage(*, operation, outage: EngineError) -> EngineError:
    """What an operation does when Consul does not answer: wait (the outage itself, retried with backoff)
    until STATE_STORE_WAIT_SECONDS have passed since it started, then fail with a sentence that names
    what is down, as far as Docker can tell (a Consul agent's container not running, or the API)."""
    waited = (timezone.now() - (operation.started or timezone.now())).total_seconds()
    if waited < settings.STATE_STORE_WAIT_SECONDS:
        return outage
    cluster = operation.cluster
    try:
        system_containers_sync(cluster=cluster)
    except EngineError:
        pass  # a node that does not answer: what the database last knew still says something
    stopped = [
        f"{agent.name} on {agent.node.name if agent.node else 'its node'}"
        for agent in cluster.containers.filter(is_system=True).exclude(status="running").select_related("node")
    ]
    if stopped:
        down = f"The Consul agent {', '.join(stopped)} is not running."
    else:
        down = f"Every Consul agent's container runs, but Consul's API at {cluster.consul_address} does not answer."
    return EngineError(
        f"The cluster's state store (Consul) did not answer for {int(waited)} s, so this was not done. {down} "
        "Start the agent (or ask the cluster's operator to), then try again.",
        code="state_store_unavailable",
        raw=outage.raw,
    )
