"""A cluster's health as a worker last saw it (its nodes' states and Consul agents, read from the
database): what the dashboard, the API and the metrics all tell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.http import Http404

from networks.models import Cluster, Node
from networks.selectors.clusters import AgentCounts, GrantUsage, cluster_list_with_agents, cluster_usage
from portal.models import Tenant

if TYPE_CHECKING:  # the stubs' helper, for the checker only: the portal does not need it to run
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class ClusterHealth:
    """How a cluster was when a worker last looked: node states and Consul agents, from the database."""

    cluster: Cluster
    nodes: list[Node]
    consul_running: int
    consul_total: int
    usage: GrantUsage | None = None

    @property
    def nodes_total(self) -> int:
        return len(self.nodes)

    @property
    def nodes_ready(self) -> int:
        return sum(1 for node in self.nodes if node.state == Node.State.READY)

    @property
    def checked(self) -> bool:
        """False until a worker has looked at every node and the Consul agents."""
        return self.consul_total > 0 and all(node.state != Node.State.UNKNOWN for node in self.nodes)

    @property
    def consul_up(self) -> bool | None:
        """True when every Consul agent runs, None when no worker has looked at them yet."""
        if self.consul_total == 0:
            return None
        return self.consul_running == self.consul_total

    @property
    def healthy(self) -> bool:
        return self.nodes_total > 0 and self.nodes_ready == self.nodes_total and self.consul_up is True

    @property
    def last_seen(self) -> datetime | None:
        return max((node.last_seen for node in self.nodes if node.last_seen), default=None)


def cluster_health_of(cluster: WithAnnotations[Cluster, AgentCounts], usage: GrantUsage | None = None) -> ClusterHealth:
    """The health the dashboard and the API both tell, of a cluster from `cluster_list_with_agents`."""
    return ClusterHealth(cluster, list(cluster.nodes.all()), cluster.consul_running, cluster.consul_total, usage)


def cluster_health_list(*, tenant: Tenant, pk: int | None = None) -> list[ClusterHealth]:
    clusters = cluster_list_with_agents(tenant=tenant)
    if pk is not None:
        clusters = clusters.filter(pk=pk)
    return [cluster_health_of(cluster, cluster_usage(cluster=cluster, tenant=tenant)) for cluster in clusters]


def cluster_health_get(*, tenant: Tenant, pk: int) -> ClusterHealth:
    found = cluster_health_list(tenant=tenant, pk=pk)
    if not found:
        raise Http404("No such cluster.")
    return found[0]
