"""The clusters a team may use and those staff manage: lists (with their Consul agents counted), one by
id, the row alone for a create, a node by name, what a team holds beside its grant's limits, and what may be
shown of a cluster's credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from networks.bundles import BundleError, certificate_facts
from networks.models import Cluster, ClusterGrant, Container, Network, Node
from plumbing.prepared import PreparedObjects
from portal.models import Tenant

if TYPE_CHECKING:  # the stubs' helper, for the checker only: the portal does not need it to run
    from django_stubs_ext import WithAnnotations


class AgentCounts(TypedDict):
    """What `cluster_list_with_agents` counts on each cluster, as annotations."""

    consul_total: int
    consul_running: int


def cluster_list(*, tenant: Tenant) -> QuerySet[Cluster]:
    """The clusters granted to the tenant (a swarm may be granted to several)."""
    return Cluster.objects.filter(grants__tenant=tenant).prefetch_related("nodes")


@dataclass(frozen=True)
class GrantUsage:
    """What a tenant holds on a cluster, beside what its grant allows (None: no limit)."""

    grant: ClusterGrant
    networks: int
    containers: int
    published_ports: int

    def rows(self) -> list[tuple[str, int, int | None]]:
        return [
            ("networks", self.networks, self.grant.max_networks),
            ("containers", self.containers, self.grant.max_containers),
            ("published ports", self.published_ports, self.grant.max_published_ports),
        ]


def _published_count(container: Container) -> int:
    return max(len(container.ports), len(container.published_ports)) if not container.is_system else 0


def grant_usage(*, grant: ClusterGrant) -> GrantUsage:
    networks = Network.objects.filter(cluster=grant.cluster_id, tenant=grant.tenant_id).live().count()
    containers = list(
        Container.objects.filter(cluster=grant.cluster_id, tenant=grant.tenant_id)
        .present()
        .only("ports", "published_ports", "is_system")
    )
    return GrantUsage(grant, networks, len(containers), sum(_published_count(c) for c in containers))


def cluster_usage(*, cluster: Cluster, tenant: Tenant) -> GrantUsage | None:
    """What the tenant holds on the cluster beside its grant's limits; None when it has no grant there."""
    grant = ClusterGrant.objects.filter(cluster=cluster, tenant=tenant).first()
    return grant_usage(grant=grant) if grant else None


def cluster_get(*, tenant: Tenant, pk: int) -> WithAnnotations[Cluster, AgentCounts]:
    return get_object_or_404(cluster_list_with_agents(tenant=tenant), pk=pk)


def _with_agents(clusters: QuerySet[Cluster]) -> QuerySet[WithAnnotations[Cluster, AgentCounts]]:
    """Clusters with their Consul agents counted (`consul_total`, `consul_running`)."""
    return clusters.annotate(
        consul_total=Count(
            "containers", filter=Q(containers__is_system=True) & ~Q(containers__status=Container.Status.REMOVED)
        ),
        consul_running=Count(
            "containers", filter=Q(containers__is_system=True, containers__status=Container.Status.RUNNING)
        ),
    )


def cluster_list_with_agents(*, tenant: Tenant) -> QuerySet[WithAnnotations[Cluster, AgentCounts]]:
    """The tenant's clusters with their Consul agents counted (`consul_total`, `consul_running`)."""
    return _with_agents(cluster_list(tenant=tenant))


def cluster_list_for_staff() -> QuerySet[Cluster]:
    """Every cluster, whichever teams use it, with its agents counted: for staff, who register and manage them."""
    return _with_agents(Cluster.objects.prefetch_related("nodes", "grants__tenant")).order_by("name")


def cluster_get_for_staff(*, pk: int) -> Cluster:
    return get_object_or_404(cluster_list_for_staff(), pk=pk)


def _granted_query(*, tenant: int, pk: int) -> QuerySet[Cluster]:
    return Cluster.objects.filter(grants__tenant=tenant, pk=pk)[:1]  # what .first() reads


_granted = PreparedObjects(_granted_query, "tenant", "pk")  # every create reads it: compiled once


def cluster_granted_find(*, tenant: Tenant, pk: int) -> Cluster | None:
    """One of the tenant's clusters, the row alone: a create needs neither the nodes nor the agents a page shows."""
    if type(pk) is not int:  # the compiled query takes integers only
        return _granted_query(tenant=tenant.pk, pk=pk).first()
    return next(iter(_granted(tenant=tenant.pk, pk=pk)), None)


def node_find(*, cluster: Cluster, name: str) -> Node | None:
    return Node.objects.filter(cluster=cluster, name=name).first()


@dataclass(frozen=True)
class ClusterCredentials:
    """What may be shown of a cluster's credentials: public facts of its client certificate, never the key
    nor the Consul token (not even sealed); `consul_token` only says whether one is kept."""

    endpoint: str
    tls: bool
    subject: str
    fingerprint: str
    expires: datetime | None
    updated: datetime | None
    consul_token: bool

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()


def cluster_credentials(cluster: Cluster) -> ClusterCredentials:
    try:
        facts = certificate_facts(cluster.tls_cert) if cluster.tls_cert else None
    except BundleError:
        facts = None  # a certificate stored before it was checked: nothing to tell of it
    return ClusterCredentials(
        endpoint=cluster.docker_endpoint,
        tls=bool(cluster.tls_key_sealed),
        subject=facts.subject if facts else "",
        fingerprint=facts.fingerprint if facts else "",
        expires=cluster.credentials_expire,
        updated=cluster.credentials_updated,
        consul_token=bool(cluster.consul_token_sealed),
    )
