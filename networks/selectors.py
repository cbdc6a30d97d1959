"""Tenant-scoped reads. Another tenant's object looks exactly like a missing one."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from networks import diagrams, ipam
from networks.bundles import BundleError, certificate_facts
from networks.filters import ContainerFilterSet
from networks.models import (
    Cluster,
    ClusterGrant,
    Container,
    Endpoint,
    Network,
    NetworkShare,
    Node,
    Operation,
    RegistryLogin,
    SubnetAllocation,
)
from portal.models import Tenant


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


def cluster_get(*, tenant: Tenant, pk: int) -> Cluster:
    return get_object_or_404(cluster_list_with_agents(tenant=tenant), pk=pk)


def cluster_capacity(*, cluster: Cluster, prefixlen: int | None = None) -> ipam.Capacity:
    """Blocks used, free and reserved at the cluster's default size, and the next one to be handed out."""
    prefixlen = cluster.default_prefixlen if prefixlen is None else prefixlen
    used = [ipaddress.IPv4Network(cidr) for cidr in cluster.subnet_allocations.values_list("cidr", flat=True)]
    reserved = [r.network for r in cluster.reserved_ranges.all()]
    return ipam.capacity(cluster.pool, prefixlen, reserved=reserved, used=used)


ANOTHER_TEAM = "held by another team"
OUTSIDE_THE_PORTAL = "held outside the portal"


@dataclass(frozen=True)
class HeldBlock:
    """A block of a shared swarm's pool as one tenant may see it: its own and shared networks by
    name, every other holder only as held (another team's, or made outside the portal)."""

    cidr: str
    kind: str
    owner: str
    network_id: int | None
    created: datetime | None = None


def subnet_allocation_list(*, tenant: Tenant, cluster: Cluster) -> list[HeldBlock]:
    visible = set(Network.objects.filter(cluster=cluster).usable_by(tenant).values_list("pk", flat=True))
    blocks = []
    for cidr, kind, owner, network_id, created in SubnetAllocation.objects.filter(cluster=cluster).values_list(
        "cidr", "kind", "owner", "network_id", "created"
    ):
        if network_id in visible:
            blocks.append(HeldBlock(cidr, kind, owner, network_id, created))
        elif kind == SubnetAllocation.Kind.EXTERNAL:
            blocks.append(HeldBlock(cidr, kind, OUTSIDE_THE_PORTAL, None, created))
        else:
            blocks.append(HeldBlock(cidr, "other", ANOTHER_TEAM, None, created))
    return blocks


def network_list(*, tenant: Tenant) -> QuerySet[Network]:
    """The tenant's own networks and those shared with it; never another team's, never external ones."""
    return Network.objects.usable_by(tenant).select_related("cluster", "created_by", "tenant")


def network_get(*, tenant: Tenant, pk: int) -> Network:
    return get_object_or_404(network_list(tenant=tenant), pk=pk)


def network_list_counted(*, tenant: Tenant) -> QuerySet[Network]:
    """`network_list` with `containers_count`, each network's endpoints counted in the row's own query.

    A subquery, not a join with GROUP BY: a page's count of rows then reads the networks alone.
    """
    endpoints = Endpoint.objects.filter(network=OuterRef("pk")).order_by().values("network")
    counted = endpoints.annotate(count=Count("pk")).values("count")
    return network_list(tenant=tenant).annotate(containers_count=Coalesce(Subquery(counted), 0))


def network_rows(*, tenant: Tenant, columns: list[str]) -> QuerySet[dict]:
    """`network_list` as plain rows of `columns` (`values()` lookups, such as cluster__name): the API's
    lists and reads, where a page may hold a thousand networks and their model objects cost the most."""
    return Network.objects.usable_by(tenant).values(*columns)


def network_rows_with_containers(rows: list[dict]) -> list[dict]:
    """Rows of `network_rows` (with their ids), each given its endpoints with their containers'
    names and teams (`endpoint_rows`, by container name: only what the API shows of a container, most
    may be another team's) and the teams it is shared with (`share_rows`, by name): two more queries
    whatever the number of rows."""
    by_id = {}
    for row in rows:
        row["endpoint_rows"], row["share_rows"] = [], []
        by_id[row["id"]] = row
    if not by_id:
        return rows
    endpoints = Endpoint.objects.filter(network__any_of=by_id).order_by("container__name", "pk")
    for endpoint in endpoints.values(
        "network", "container", "container__name", "container__tenant", "ipv4_address", "mac_address", "aliases"
    ):
        by_id[endpoint["network"]]["endpoint_rows"].append(endpoint)
    shares = NetworkShare.objects.filter(network__any_of=by_id).order_by("tenant__name", "pk")
    for share in shares.values("network", "tenant__slug"):
        by_id[share["network"]]["share_rows"].append(share)
    return rows


def network_share_list(*, network: Network) -> QuerySet[NetworkShare]:
    """The teams a network is shared with (its owners' view)."""
    return network.shares.select_related("tenant", "created_by").order_by("tenant__name")


def network_share_candidates(*, network: Network) -> QuerySet[Tenant]:
    """The other teams of the network's cluster it is not yet shared with."""
    return (
        Tenant.objects.filter(cluster_grants__cluster=network.cluster_id)
        .exclude(pk=network.tenant_id)
        .exclude(network_shares__network=network)
        .order_by("name")
    )


def container_list(*, tenant: Tenant) -> QuerySet[Container]:
    """The tenant's containers and the system containers of the tenant's clusters (shown, never changed)."""
    granted = ClusterGrant.objects.filter(tenant=tenant).values("cluster_id")
    return (
        Container.objects.filter(Q(tenant=tenant) | Q(is_system=True, cluster_id__in=granted))
        .select_related("cluster", "node")
        .prefetch_related("endpoints__network")
    )


def container_get(*, tenant: Tenant, pk: int) -> Container:
    return get_object_or_404(container_list(tenant=tenant), pk=pk)


def operations_ahead() -> Subquery:
    """For a queued operation that reached the task queue: how many unfinished operations came before it
    (of every team: they share the workers). NULL for any other, so the count runs only where it is told."""
    earlier = (
        Operation.objects.unfinished()
        .filter(created__lt=OuterRef("created"))
        .order_by()
        .values(everything=Value(1))
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Case(
        When(status=Operation.Status.QUEUED, sent__isnull=False, then=Coalesce(Subquery(earlier), 0)),
        default=None,
        output_field=IntegerField(),
    )


def operation_list(*, tenant: Tenant) -> QuerySet[Operation]:
    """The tenant's operations, each with `ahead` counted for `operation_waiting_for` in the same query."""
    return (
        Operation.objects.filter(tenant=tenant)
        .select_related("cluster", "network", "container", "requested_by")
        .annotate(ahead=operations_ahead())
    )


def operation_get(*, tenant: Tenant, pk: int) -> Operation:
    """One of the tenant's operations. Without `operation_list`'s count of the work ahead in the query (a
    subquery that costs every look at an operation, and the pages and scripts that follow one look often):
    `operation_waiting_for` counts it only while the operation is queued."""
    operations = Operation.objects.filter(tenant=tenant).select_related(
        "cluster", "network", "container", "requested_by"
    )
    return get_object_or_404(operations, pk=pk)


def registry_login_list(*, tenant: Tenant) -> QuerySet[RegistryLogin]:
    """The team's registry logins; the sealed password is not even read (only a worker opens it)."""
    return RegistryLogin.objects.filter(tenant=tenant).defer("password_sealed").order_by("registry")


def registry_login_get(*, tenant: Tenant, pk: int) -> RegistryLogin:
    return get_object_or_404(registry_login_list(tenant=tenant), pk=pk)


# Waits a worker sits out by trying again, and what each names in the sentence.
RETRIED_WAITS = {
    Operation.WaitsOn.CLUSTER: "the cluster",
    Operation.WaitsOn.STATE_STORE: "the cluster's state store (Consul)",
    Operation.WaitsOn.DATABASE: "the portal's database",
}


def operation_waiting_for(*, operation: Operation) -> str:
    """What an unfinished operation waits for, in words, from its `waits_on` field; "" when it is not
    waiting. One count at most, no broker call."""
    if operation.is_finished:
        return ""
    waits_on = operation.waits_on
    if waits_on in RETRIED_WAITS:
        since = operation.waiting_since or timezone.now()
        seconds = max(0, round((timezone.now() - since).total_seconds()))
        return (
            f"Waiting for {RETRIED_WAITS[waits_on]} to answer: no answer for {seconds} s (since {since:%H:%M:%S} "
            "UTC). The operation goes on as soon as it answers; the worker keeps trying with growing pauses."
        )
    if operation.status != Operation.Status.QUEUED:
        return ""
    if waits_on == Operation.WaitsOn.TASK_QUEUE:
        return "Waiting for the task queue: it does not answer. The operation is sent as soon as it does."
    if operation.sent is None:
        return "Being handed to the task queue."
    ahead = getattr(operation, "ahead", None)
    if ahead is None:  # not read through operation_list
        ahead = Operation.objects.unfinished().filter(created__lt=operation.created).count()
    if ahead:
        return f"Waiting for a worker: it is busy with {ahead} operation{'s' if ahead != 1 else ''} ahead of this one."
    return "Waiting for a worker to pick it up."


def work_in_progress(objects) -> bool:
    """Whether the worker is still changing any of these networks or containers (a page of a list).

    Lists keep refreshing themselves while this holds, so a row turns from "Creating" to "Active"
    (or from "Running" to "Exited" after a stop) without a reload.
    """
    objects = list(objects)
    if not objects:
        return False
    busy = {Network.Status.CREATING, Network.Status.REMOVING, Container.Status.CREATING, Container.Status.REMOVING}
    if any(obj.status in busy for obj in objects):
        return True
    field = "network" if isinstance(objects[0], Network) else "container"
    return Operation.objects.unfinished().filter(**{f"{field}__in": [obj.pk for obj in objects]}).exists()


def cluster_work_in_progress(*, cluster: Cluster) -> bool:
    """Whether the worker is changing anything on the cluster (its pictures then refresh faster)."""
    return Operation.objects.filter(cluster=cluster).unfinished().exists()


# --- pages that gather several reads ------------------------------------------------------------


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


def _with_agents(clusters: QuerySet[Cluster]) -> QuerySet[Cluster]:
    """Clusters with their Consul agents counted (`consul_total`, `consul_running`)."""
    return clusters.annotate(
        consul_total=Count(
            "containers", filter=Q(containers__is_system=True) & ~Q(containers__status=Container.Status.REMOVED)
        ),
        consul_running=Count(
            "containers", filter=Q(containers__is_system=True, containers__status=Container.Status.RUNNING)
        ),
    )


def cluster_list_with_agents(*, tenant: Tenant) -> QuerySet[Cluster]:
    """The tenant's clusters with their Consul agents counted (`consul_total`, `consul_running`)."""
    return _with_agents(cluster_list(tenant=tenant))


def cluster_list_for_staff() -> QuerySet[Cluster]:
    """Every cluster, whichever teams use it, with its agents counted: for staff, who register and manage them."""
    return _with_agents(Cluster.objects.prefetch_related("nodes", "grants__tenant")).order_by("name")


def cluster_get_for_staff(*, pk: int) -> Cluster:
    return get_object_or_404(cluster_list_for_staff(), pk=pk)


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


def cluster_health_of(cluster: Cluster, usage: GrantUsage | None = None) -> ClusterHealth:
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


def container_exposed_list(*, tenant: Tenant) -> QuerySet[Container]:
    """The tenant's live containers that publish ports: reachable from the Internet and ServiceNet."""
    live = container_list(tenant=tenant).filter(tenant=tenant).present()
    return ContainerFilterSet({"exposed": "true"}, queryset=live, tenant=tenant).qs


def dashboard_summary(*, tenant: Tenant) -> dict:
    live_networks = network_list(tenant=tenant).live()
    live_containers = Container.objects.filter(tenant=tenant).present()
    return {
        "clusters": cluster_health_list(tenant=tenant),
        "networks_count": live_networks.filter(tenant=tenant).count(),
        "shared_networks_count": live_networks.exclude(tenant=tenant).count(),
        "containers_count": live_containers.count(),
        "running_count": live_containers.filter(status=Container.Status.RUNNING).count(),
        "exposed": list(container_exposed_list(tenant=tenant)[:20]),
        "operations": list(operation_list(tenant=tenant)[:8]),
        "operations_unfinished": operation_list(tenant=tenant).unfinished().count(),
    }


def network_connect_candidates(*, tenant: Tenant, network: Network) -> QuerySet[Container]:
    """The tenant's containers on the network's cluster that can be connected to it now."""
    return (
        Container.objects.filter(tenant=tenant, cluster=network.cluster, is_system=False)
        .exclude(status__in=[Container.Status.REMOVING, Container.Status.REMOVED, Container.Status.FAILED])
        .exclude(endpoints__network=network)
        .order_by("name")
    )


def cluster_allocation_map(
    *, tenant: Tenant, cluster: Cluster, focus: str | None = None, selected: str | None = None
) -> tuple[diagrams.AllocationMap, ipam.Capacity]:
    """The pool as two grids (see networks.diagrams) and the capacity figures for its legend."""
    capacity = cluster_capacity(cluster=cluster)
    kinds = {SubnetAllocation.Kind.EXTERNAL: diagrams.HolderKind.EXTERNAL, "other": diagrams.HolderKind.OTHER_TEAM}
    holders = [
        diagrams.Holder.of(
            ipaddress.IPv4Network(block.cidr),
            kinds.get(block.kind, diagrams.HolderKind.NETWORK),
            block.owner,
            block.network_id,
        )
        for block in subnet_allocation_list(tenant=tenant, cluster=cluster)
    ]
    for reserved in cluster.reserved_ranges.all():
        kind = diagrams.HolderKind.SERVICENET if reserved.is_servicenet else diagrams.HolderKind.RESERVED
        owner = "ServiceNet" if reserved.is_servicenet else f"reserved range ({reserved.description})"
        holders.append(diagrams.Holder.of(reserved.network, kind, owner))
    picture = diagrams.allocation_map(
        cluster.pool,
        capacity.prefixlen,
        holders,
        next_block=capacity.next_block,
        focus=focus,
        selected=selected,
    )
    return picture, capacity


def cluster_topology(*, tenant: Tenant, cluster: Cluster) -> diagrams.Topology:
    """The cluster's nodes, live networks and containers (system ones included), placed for drawing."""
    nodes = [
        diagrams.TopoNode(node.name, node.address, node.get_role_display(), node.state) for node in cluster.nodes.all()
    ]
    networks = [
        diagrams.TopoNetwork(n.pk, n.name, n.subnet, n.tenant_id != tenant.pk, n.status)
        for n in network_list(tenant=tenant).filter(cluster=cluster).live().order_by("name")
    ]
    containers = [
        diagrams.TopoContainer(
            id=c.pk,
            name=c.name,
            image=c.image,
            status=c.status,
            node=c.node.name if c.node else "",
            exposed=c.is_exposed,
            exposure=c.exposure,
            system=c.is_system,
            network_ids=[e.network_id for e in c.endpoints.all()],
        )
        for c in container_list(tenant=tenant).filter(cluster=cluster).present().order_by("is_system", "name")
    ]
    return diagrams.topology(nodes, networks, containers)


# --- what a request names, found or None (services/references.py words the refusals) ---------------


def cluster_granted_find(*, tenant: Tenant, pk: int) -> Cluster | None:
    """One of the tenant's clusters, the row alone: a create needs neither the nodes nor the agents a page shows."""
    return Cluster.objects.filter(grants__tenant=tenant, pk=pk).first()


def network_find(*, tenant: Tenant, cluster: Cluster, ref: int | str) -> Network | None:
    """A network the tenant may use on the cluster (its own or shared with it): by id, or a live one by name."""
    networks = network_list(tenant=tenant).filter(cluster=cluster)
    if isinstance(ref, int):
        return networks.filter(pk=ref).first()
    return networks.live().filter(name=ref).first()


def node_find(*, cluster: Cluster, name: str) -> Node | None:
    return Node.objects.filter(cluster=cluster, name=name).first()


def operation_find(*, tenant: Tenant, pk: int) -> Operation | None:
    return Operation.objects.filter(pk=pk, tenant=tenant).first()


def container_exited_count(*, tenant: Tenant) -> int:
    """How many of the tenant's own containers have exited: what removing the exited ones would remove."""
    return Container.objects.filter(tenant=tenant, status=Container.Status.EXITED, is_system=False).count()


def container_image_list(*, tenant: Tenant) -> list[str]:
    """The images the tenant's containers were run from, each once, in order."""
    return sorted(set(Container.objects.filter(tenant=tenant).values_list("image", flat=True)))
