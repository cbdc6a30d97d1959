from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from networks import ipam
from networks import labels as docker_labels
from networks.bundles import Bundle, bundle_open, bundle_seal, certificate_facts
from networks.engine import ClusterUnavailable, EngineError
from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.engine.endpoints import ConsulEndpoint, DockerEndpoint
from networks.models import Cluster, ClusterGrant, Network, Node, ReservedRange, SubnetAllocation
from plumbing.errors import ServiceError
from portal.models import Tenant

from . import queue
from .containers import system_containers_sync
from .reconcile import cluster_reconcile_request

CONSUL_HTTP_PORT = 8500  # Consul's HTTP API, on the manager (Carina ran an agent on every node)
# How long a page or the API waits for a worker to connect (the connect task's own limit is 50 s).
CONNECT_WAIT_SECONDS = 60
TEST_WAIT_SECONDS = 110  # connecting, then the health refresh: the test task's own hard limit (tasks.py)
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
REGISTRY_PATTERN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?")


@dataclass(frozen=True)
class SwarmFound:
    """What connecting with a bundle read from the cluster: nothing here is typed by a person."""

    swarm_id: str
    api_version: str
    docker_host: str  # the manager DOCKER_HOST reached
    nodes: tuple[dict, ...]  # {"name", "address", "role", "docker_endpoint"}
    consul_address: str

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SwarmFound:
        return cls(**{**data, "nodes": tuple(data["nodes"])})


def cluster_connect(bundle: Bundle) -> SwarmFound:
    """Connect as the bundle says and read the swarm; a ServiceError with a sentence for each way it fails
    (TLS, nothing answering, not a manager, not in a swarm, Docker too old, Consul not answering)."""
    endpoint = DockerEndpoint(bundle.docker_host, bundle.tls)
    try:
        facts = docker_engine.engine_facts(endpoint)
        nodes = docker_engine.swarm_nodes(endpoint) if facts.is_manager else []
    except ClusterUnavailable as error:
        raise ServiceError(
            "cluster_unreachable",
            f"Nothing answers at {bundle.docker_host} ({_reason(error.raw)}). Check DOCKER_HOST in docker.env, "
            "that the cluster is up, and that this machine can reach it.",
            field="docker_host",
        ) from error
    except EngineError as error:
        raise ServiceError(error.code, f"{bundle.docker_host}: {error}", field="bundle") from error
    if _version(facts.api_version) < _version(settings.DOCKER_MIN_API_VERSION):
        raise ServiceError(
            "docker_too_old",
            f"The engine at {bundle.docker_host} speaks Docker API {facts.api_version}; the portal needs "
            f"{settings.DOCKER_MIN_API_VERSION} or newer. Upgrade Docker on the cluster's nodes.",
            field="docker_host",
        )
    if facts.swarm_state != "active":
        raise ServiceError(
            "not_in_swarm",
            f"The engine at {bundle.docker_host} is not in a swarm (its swarm state is {facts.swarm_state}). "
            "Run `docker swarm init` on it, or use the bundle of a cluster whose nodes form a swarm.",
            field="docker_host",
        )
    if not facts.is_manager:
        raise ServiceError(
            "not_a_manager",
            f"The engine at {bundle.docker_host} is a swarm worker, not a manager. Point DOCKER_HOST at one of "
            "the swarm's managers (`docker node ls` on a manager lists them).",
            field="docker_host",
        )
    port = urlsplit(bundle.docker_host).port
    found_nodes = tuple(
        {
            "name": node.hostname,
            "address": node.address,
            "role": node.role,
            "docker_endpoint": bundle.docker_host if node.id == facts.node_id else f"tcp://{node.address}:{port}",
        }
        for node in sorted(nodes, key=lambda n: n.hostname)
    )
    manager = next(node for node in found_nodes if node["docker_endpoint"] == bundle.docker_host)
    consul_address = f"http://{manager['address']}:{CONSUL_HTTP_PORT}"
    _consul_check(consul_address, bundle, facts)
    return SwarmFound(
        swarm_id=facts.swarm_id,
        api_version=facts.api_version,
        docker_host=bundle.docker_host,
        nodes=found_nodes,
        consul_address=consul_address,
    )


def _consul_check(address: str, bundle: Bundle, facts) -> None:
    where = (
        f"its agent runs on the manager as {', '.join(facts.consul_containers)}"
        if facts.consul_containers
        else "no Consul agent's container runs on the manager"
    )
    try:
        leader = consul_engine.leader(ConsulEndpoint(address, bundle.consul_token))
    except EngineError as error:
        raise ServiceError(
            "consul_unreachable",
            f"The swarm answers, but its Consul does not at {address} ({where}). The portal keeps the networks' "
            "state there: start the Consul agents on the nodes, then register again.",
            field="bundle",
        ) from error
    if not leader:
        raise ServiceError(
            "consul_no_leader",
            f"Consul answers at {address} but has no leader yet. Wait until its servers have elected one "
            "(`consul operator raft list-peers`), then register again.",
            field="bundle",
        )


def _reason(raw: str) -> str:
    lowered = raw.lower()
    for mark, reason in (("refused", "connection refused"), ("timed out", "timed out"), ("no route", "no route")):
        if mark in lowered:
            return reason
    return "no answer"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2]) or (0,)


def cluster_connect_ask(bundle: Bundle, *, timeout: float) -> SwarmFound:
    """Have a worker connect with the bundle (the web never calls the cluster). The key travels sealed."""
    answer = queue.ask(queue.CLUSTER_CONNECT, bundle_seal(bundle), timeout=timeout)
    if not answer["ok"]:
        raise ServiceError(answer["code"], answer["message"], field=answer.get("field"))
    return SwarmFound.from_dict(answer["found"])


def cluster_connect_answer(sealed: dict) -> dict:
    """The worker's side of cluster_connect_ask: an answer the result store may hold (no key in it)."""
    try:
        return {"ok": True, "found": cluster_connect(bundle_open(sealed)).as_dict()}
    except ServiceError as error:
        return {"ok": False, "code": error.code, "message": error.message, "field": error.field}


def cluster_register(*, tenant: Tenant, bundle: Bundle, name: str, registry: str = "") -> Cluster:
    """Connect with the bundle, then record the swarm for the tenant (a command's way: it may call the cluster)."""
    return cluster_record(tenant=tenant, found=cluster_connect(bundle), bundle=bundle, name=name, registry=registry)


def cluster_name_check(name: str) -> str:
    name = name.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise ServiceError(
            "bad_name",
            "A cluster's name is 1 to 63 lowercase letters, digits, hyphens or underscores, such as prod or "
            "carina-east.",
            field="name",
        )
    return name


def registry_check(registry: str) -> str:
    registry = registry.strip()
    if registry and not REGISTRY_PATTERN.fullmatch(registry):
        raise ServiceError(
            "bad_registry",
            f'"{registry[:100]}" is not a registry address. Give it as HOST:PORT, such as 192.168.250.1:5000, '
            "or leave it empty.",
            field="registry",
        )
    return registry


def cluster_first_tenant(*, slug: str, default: Tenant | None) -> Tenant:
    """The team named (by slug) to use a cluster first; the asking user's own team when none is named."""
    slug = slug.strip()
    tenant = Tenant.objects.filter(slug=slug).first() if slug else default
    if tenant is None:
        raise ServiceError(
            "bad_tenant",
            f'There is no team "{slug[:100]}". Name an existing team by its short name (slug).'
            if slug
            else "Name the team that will use the cluster first (tenant: its short name).",
            field="tenant",
        )
    return tenant


def cluster_register_ask(
    *, tenant: Tenant, bundle: Bundle, name: str, registry: str = "", user=None, timeout: float = CONNECT_WAIT_SECONDS
) -> Cluster:
    """The web's way to register (pages, admin, API): a worker connects with the bundle (its key sealed);
    nothing is saved unless the swarm answered. Then workers reconcile the cluster and look at its health."""
    name, registry = cluster_name_check(name), registry_check(registry)
    found = cluster_connect_ask(bundle, timeout=timeout)
    cluster = cluster_record(tenant=tenant, found=found, bundle=bundle, name=name, registry=registry)
    cluster_reconcile_request(cluster=cluster, user=user)
    cluster_refresh_health_request(cluster=cluster)
    return cluster


def cluster_credentials_rotate_ask(
    *, cluster: Cluster, bundle: Bundle, timeout: float = CONNECT_WAIT_SECONDS
) -> Cluster:
    """The web's way to rotate: a worker connects with the new bundle; once it reached the same swarm, the old
    credentials are dropped."""
    found = cluster_connect_ask(bundle, timeout=timeout)
    cluster = cluster_credentials_rotate(cluster=cluster, found=found, bundle=bundle)
    cluster_refresh_health_request(cluster=cluster)
    return cluster


@transaction.atomic
def cluster_record(*, tenant: Tenant, found: SwarmFound, bundle: Bundle, name: str, registry: str = "") -> Cluster:
    """Record a swarm found with a bundle: new, refreshed (new credentials), or refused when another team has it.

    A new cluster gets ServiceNet as a reserved range, so no network is ever placed on it.
    """
    cluster = Cluster.objects.select_for_update().filter(swarm_id=found.swarm_id).first()
    if cluster is not None and not ClusterGrant.objects.filter(cluster=cluster, tenant=tenant).exists():
        raise ServiceError(
            "swarm_registered",
            f'This swarm ({found.swarm_id}) is already registered as cluster "{cluster.name}" (id {cluster.pk}). '
            f"To let {tenant.name} use it, grant it: manage.py cluster_grant --cluster {cluster.pk} "
            f"--tenant {tenant.slug}, or add a grant on the cluster's page in the admin.",
            http_status=409,
        )
    if cluster is None:
        cluster = Cluster.objects.select_for_update().filter(name=name).first()
        if cluster is not None and not ClusterGrant.objects.filter(cluster=cluster, tenant=tenant).exists():
            raise ServiceError(
                "name_taken",
                f'A cluster named "{name}" already exists for other teams. Register this swarm under another name.',
                field="name",
                http_status=409,
            )
    created = cluster is None
    if created:
        cluster = Cluster(name=name)
    # The same swarm again, or (same name, new ID) the swarm was rebuilt: its old networks are gone
    # with it, and the reconcile that follows registration marks them so.
    cluster.swarm_id = found.swarm_id
    cluster.registry = registry or cluster.registry
    _credentials_set(cluster, found, bundle)
    cluster.save()
    if created:
        ReservedRange.objects.create(
            cluster=cluster, cidr=str(ipam.SERVICENET), description="ServiceNet", is_servicenet=True
        )
        ClusterGrant.objects.create(cluster=cluster, tenant=tenant)
    _nodes_record(cluster, found)
    return cluster


def _credentials_set(cluster: Cluster, found: SwarmFound, bundle: Bundle) -> None:
    facts = certificate_facts(bundle.tls.cert_pem)
    sealed = bundle_seal(bundle)
    cluster.docker_endpoint = found.docker_host
    cluster.consul_address = found.consul_address
    cluster.tls_ca, cluster.tls_cert = bundle.tls.ca_pem, bundle.tls.cert_pem
    cluster.tls_key_sealed, cluster.consul_token_sealed = sealed["key_sealed"], sealed["consul_token_sealed"]
    cluster.credentials_expire = facts.not_after
    cluster.credentials_updated = timezone.now()
    cluster.__dict__.pop("tls", None)  # the cached opened key is the old one


def _nodes_record(cluster: Cluster, found: SwarmFound) -> None:
    seen = []
    for node in found.nodes:
        Node.objects.update_or_create(
            cluster=cluster,
            name=node["name"],
            defaults={
                "docker_endpoint": node["docker_endpoint"],
                "address": node["address"],
                "role": Node.Role.MANAGER if node["role"] == "manager" else Node.Role.WORKER,
            },
        )
        seen.append(node["name"])
    cluster.nodes.exclude(name__in=seen).delete()


@transaction.atomic
def cluster_credentials_rotate(*, cluster: Cluster, found: SwarmFound, bundle: Bundle) -> Cluster:
    """Use a new bundle for a registered swarm from now on: the old credentials are dropped at once."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if found.swarm_id != cluster.swarm_id:
        raise ServiceError(
            "other_swarm",
            f'That bundle reaches swarm {found.swarm_id}, not "{cluster.name}" ({cluster.swarm_id}). Upload the '
            "bundle of this cluster, or register the other swarm as a cluster of its own.",
            field="bundle",
            http_status=409,
        )
    _credentials_set(cluster, found, bundle)
    cluster.save()
    _nodes_record(cluster, found)
    return cluster


@transaction.atomic
def cluster_deregister(*, cluster: Cluster) -> None:
    """Forget a cluster; refused while any team still has networks or containers on it (named)."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    networks = list(
        cluster.networks.live().filter(tenant__isnull=False).order_by("name").values_list("name", flat=True)[:11]
    )
    containers = list(
        cluster.containers.present().filter(is_system=False).order_by("name").values_list("name", flat=True)[:11]
    )
    if networks or containers:
        held = [
            f"networks {_names(networks)}" if networks else "",
            f"containers {_names(containers)}" if containers else "",
        ]
        raise ServiceError(
            "cluster_in_use",
            f'Cluster "{cluster.name}" still has {" and ".join(h for h in held if h)}. Remove them (or ask their '
            "teams to), then deregister it.",
            http_status=409,
        )
    cluster.operations.all().delete()
    cluster.networks.all().delete()
    cluster.delete()


def _names(names: list[str]) -> str:
    shown = ", ".join(f'"{name}"' for name in names[:10])
    return shown + (" and more" if len(names) > 10 else "")


def cluster_refresh_health(*, cluster: Cluster) -> dict:
    """Ask the swarm manager and Consul how the nodes are; record each node's state.

    Returns a summary: nodes ready out of total, and whether Consul has a leader and all agents alive.
    """
    now = timezone.now()
    nodes = {node.name: node for node in cluster.nodes.all()}
    try:
        swarm = {item.hostname: item for item in docker_engine.swarm_nodes(cluster.docker)}
    except EngineError:
        swarm = {}
    # A node's hostname inside its namespace is the machine's, so match by address as well.
    by_address = {item.address: item for item in swarm.values()}
    for node in nodes.values():
        item = swarm.get(node.name) or by_address.get(node.address)
        node.state = Node.State.READY if item and item.state == "ready" else Node.State.DOWN
        if node.state == Node.State.READY:
            node.last_seen = now
            node.listening_ports = _listening_ports(node)
        node.save(update_fields=["state", "last_seen", "listening_ports"])
    # The dashboard tells whether Consul is up from its agents' system containers: refresh them too.
    try:
        system_containers_sync(cluster=cluster)
    except EngineError:
        pass  # a node that cannot be reached is already recorded as down
    try:
        alive = {m["Name"] for m in consul_engine.members(cluster.consul) if m.get("Status") == 1}
        consul_up = bool(consul_engine.leader(cluster.consul))
    except EngineError:
        alive, consul_up = set(), False
    return {
        "nodes_total": len(nodes),
        "nodes_ready": sum(1 for node in nodes.values() if node.state == Node.State.READY),
        "consul_leader": consul_up,
        "consul_alive": sorted(alive),
    }


def _listening_ports(node: Node) -> list:
    """What the node's own programs listen on now, or what was known when it cannot be read."""
    try:
        found = docker_engine.listening_ports(
            node.docker, image=settings.NODE_PROBE_IMAGE, labels={docker_labels.PROBE: "true"}
        )
    except EngineError:
        return node.listening_ports  # no probe image on the node, or the node does not answer
    return [list(pair) for pair in found]


def cluster_bundle(cluster: Cluster) -> Bundle:
    """The credentials the cluster was registered (or last rotated) with, the key opened: workers only."""
    return Bundle(docker_host=cluster.docker_endpoint, tls=cluster.tls, consul_token=cluster.consul.token)


def cluster_test_run(*, cluster: Cluster) -> dict:
    """Connect with the stored credentials, check it is still the same swarm, refresh the nodes' health.

    The answer is a sentence either way: {"ok", "code", "message"} (a worker's answer, no key in it).
    """
    try:
        found = cluster_connect(cluster_bundle(cluster))
    except ServiceError as error:
        return {"ok": False, "code": error.code, "message": error.message}
    if cluster.swarm_id and found.swarm_id != cluster.swarm_id:
        return {
            "ok": False,
            "code": "other_swarm",
            "message": f'{cluster.docker_endpoint} now answers as swarm {found.swarm_id}, not "{cluster.name}" '
            f"({cluster.swarm_id}): the swarm was rebuilt, or the address now belongs to another one. Register "
            "it as a new cluster, or rotate this cluster's credentials to reach its own swarm.",
        }
    health = cluster_refresh_health(cluster=cluster)
    consul = "Consul has a leader" if health["consul_leader"] else "Consul has NO leader"
    return {
        "ok": True,
        "code": "connected",
        "message": f'Connected to "{cluster.name}" {"over TLS " if cluster.tls else ""}at {cluster.docker_endpoint}: '
        f"swarm {found.swarm_id}, Docker API {found.api_version}, {health['nodes_ready']}/{health['nodes_total']} "
        f"nodes ready, {consul}.",
    }


def cluster_test_ask(*, cluster: Cluster, timeout: float = TEST_WAIT_SECONDS) -> dict:
    """Have a worker test the cluster's connection (see cluster_test_run) and wait for its sentence."""
    return queue.ask(queue.CLUSTER_TEST, cluster.pk, timeout=timeout)


def cluster_refresh_health_request(*, cluster: Cluster) -> None:
    """Ask a worker to look at the cluster's nodes and Consul (web requests never call the cluster)."""
    # robust: with the task queue down, the page still answers (beat refreshes health every minute anyway).
    queue.send_on_commit(queue.CLUSTER_REFRESH_HEALTH, cluster.pk, robust=True)


def cluster_refresh_health_ask(*, cluster: Cluster, timeout: float) -> dict:
    """Have a worker look at the cluster now and wait for what it found."""
    return queue.ask(queue.CLUSTER_REFRESH_HEALTH, cluster.pk, timeout=timeout)


# --- one swarm, one cluster: merging registrations made before swarm IDs were recorded ---------


def cluster_merge_swarms() -> list[str]:
    """Record every cluster's swarm ID and merge clusters that are one swarm into the oldest of them.

    Returns what it did, in words. Two rows for one swarm can only come from registrations made
    before the swarm ID was recorded (the constraint refuses them now). Grants, networks,
    containers and operations move to the kept cluster; a network whose subnet or name clashes
    with one already there was broken in the swarm all along (swarmkit accepts an overlapping
    overlay and leaves it unusable) and is recorded as removed.
    """
    said, groups = [], {}
    for cluster in Cluster.objects.order_by("pk"):
        swarm = cluster.swarm_id
        if not swarm:
            try:
                swarm = cluster_connect(cluster_bundle(cluster)).swarm_id
            except ServiceError as error:
                said.append(
                    f'Cluster "{cluster.name}": its swarm ID could not be read ({error.message}) Left as it is.'
                )
                continue
        groups.setdefault(swarm, []).append(cluster)
    for swarm, (keep, *others) in groups.items():
        for other in others:
            said += _merge_into(keep, other)
        if keep.swarm_id != swarm or others:
            Cluster.objects.filter(pk=keep.pk).update(swarm_id=swarm, allocation_floor=None)
            said.append(f'Cluster "{keep.name}" is swarm {swarm}.')
    return said


@transaction.atomic
def _merge_into(keep: Cluster, other: Cluster) -> list[str]:
    said = [f'Cluster "{other.name}" is the same swarm as "{keep.name}": merged into it.']
    for grant in other.grants.all():
        if not keep.grants.filter(tenant=grant.tenant_id).exists():
            grant.cluster = keep
            grant.save(update_fields=["cluster"])
            said.append(f"  {grant.tenant.name} now uses {keep.name}.")
    nodes = {node.name: node for node in keep.nodes.all()}
    for network in other.networks.select_related("tenant").order_by("pk"):
        allocation = getattr(network, "allocation", None)
        clash = network.status in Network.LIVE_STATUSES and (
            keep.networks.live().filter(name=network.name).exists()
            or (
                allocation is not None
                and keep.subnet_allocations.filter(first__lte=allocation.last, last__gte=allocation.first).exists()
            )
        )
        if allocation is not None:
            allocation.delete()
        if clash:
            network.endpoints.all().delete()
            network.address_allocations.all().delete()
            network.status = Network.Status.REMOVED
            network.cluster = keep
            network.save(update_fields=["status", "cluster", "updated"])
            said.append(
                f'  Network "{network.name}" ({network.subnet}) clashed with one already on the swarm and was '
                "broken there: recorded as removed. Its team can create it again."
            )
            continue
        network.cluster = keep
        network.save(update_fields=["cluster", "updated"])
        if allocation is not None and network.status in Network.LIVE_STATUSES:
            first, last = ipam.to_range(network.subnet_network)
            SubnetAllocation.objects.create(
                cluster=keep,
                network=network,
                cidr=network.subnet,
                first=first,
                last=last,
                kind=allocation.kind,
                owner=allocation.owner,
            )
        said.append(f'  Network "{network.name}" moved.')
    for container in other.containers.select_related("node"):
        if container.is_system:
            container.delete()
            continue
        container.cluster = keep
        container.node = nodes.get(container.node.name) if container.node else None
        container.save(update_fields=["cluster", "node", "updated"])
    other.operations.update(cluster=keep)
    other.delete()
    return said


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
