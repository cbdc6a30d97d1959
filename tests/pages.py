"""Records for the page tests: a team with one user per role, and a cluster that is only rows.

The rows are made the way the services make them (subnet_allocate holds each network's block), but
no Docker or Consul is called: page tests that need the real cluster use `tenant_cluster`.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from networks import ipam
from networks.models import (
    AddressAllocation,
    Cluster,
    ClusterGrant,
    Container,
    Endpoint,
    Network,
    NetworkShare,
    Node,
    Operation,
    ReservedRange,
    SubnetAllocation,
)
from networks.services.allocations import subnet_allocate
from portal.models import Membership, Tenant
from portal.services import membership_set, tenant_create

PASSWORD = "portal-test-pw"
_counter = itertools.count(1)


@dataclass
class Team:
    tenant: Tenant
    owner: object
    member: object
    viewer: object
    cluster: Cluster

    def node(self, name: str = "node1") -> Node:
        return self.cluster.nodes.get(name=name)


@functools.cache
def _password_hash() -> str:
    return make_password(PASSWORD)  # hashed once: the hasher is slow on purpose


def make_user(username: str):
    return get_user_model().objects.create(username=username, password=_password_hash())


def make_staff(username: str):
    """The portal's staff (a superuser): the admin and the cluster pages are theirs, whatever team they are in."""
    user = make_user(username)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def add_users(tenant: Tenant, prefix: str) -> tuple:
    users = []
    for role in (Membership.Role.OWNER, Membership.Role.MEMBER, Membership.Role.VIEWER):
        user = make_user(f"{prefix}-{role}")
        membership_set(tenant=tenant, user=user, role=role)
        users.append(user)
    return tuple(users)


def make_cluster(tenant: Tenant, name: str = "local", *, octet: int = 250) -> Cluster:
    """A cluster that exists only as rows (its addresses are from TEST-NET, nothing answers there)."""
    cluster = Cluster.objects.create(
        name=f"{name}-{tenant.slug}" if Cluster.objects.filter(name=name).exists() else name,
        docker_endpoint=f"tcp://192.0.2.{octet}:2375",
        consul_address=f"http://192.0.2.{octet}:8500",
    )
    ReservedRange.objects.create(
        cluster=cluster, cidr=str(ipam.SERVICENET), description="ServiceNet", is_servicenet=True
    )
    ClusterGrant.objects.create(cluster=cluster, tenant=tenant)
    for i, role in ((1, Node.Role.MANAGER), (2, Node.Role.WORKER)):
        Node.objects.create(
            cluster=cluster,
            name=f"node{i}",
            docker_endpoint=f"tcp://192.168.{octet}.{10 + i}:2375",
            address=f"192.168.{octet}.{10 + i}",
            role=role,
            state=Node.State.READY,
        )
    return cluster


def make_team(name: str | None = None) -> Team:
    number = next(_counter)
    name = name or f"Team {number}"
    tenant = tenant_create(name=name)
    owner, member, viewer = add_users(tenant, tenant.slug)
    cluster = make_cluster(tenant, octet=100 + number % 100)
    return Team(tenant, owner, member, viewer, cluster)


def make_network(
    team: Team, name: str, *, status=Network.Status.ACTIVE, subnet: str | None = None, **fields
) -> Network:
    allocation = subnet_allocate(cluster=team.cluster, owner=f'network "{name}"', subnet=subnet)
    network = Network.objects.create(
        tenant=fields.pop("tenant", team.tenant),
        cluster=team.cluster,
        name=name,
        subnet=allocation.cidr,
        gateway=str(allocation.subnet.network_address + 1),
        status=status,
        docker_id=f"docker{name}" if status == Network.Status.ACTIVE else "",
        **fields,
    )
    allocation.network = network
    if network.is_external:
        allocation.kind = SubnetAllocation.Kind.EXTERNAL
    allocation.save(update_fields=["network", "kind"])
    return network


def make_container(
    team: Team, name: str, *, networks=(), node: str = "node1", status=Container.Status.RUNNING, **fields
) -> Container:
    container = Container.objects.create(
        tenant=team.tenant,
        cluster=team.cluster,
        node=team.node(node),
        name=name,
        image=fields.pop("image", "overlay-portal/tools:latest"),
        status=status,
        docker_id=f"id-{name}",
        **fields,
    )
    for i, network in enumerate(networks):
        address = network.subnet_network.network_address + 2 + i
        Endpoint.objects.create(network=network, container=container, ipv4_address=str(address))
    return container


def make_system_container(team: Team, node: str = "node1", *, running: bool = True) -> Container:
    return Container.objects.create(
        cluster=team.cluster,
        node=team.node(node),
        name=f"op-consul-{node}",
        image="overlay-portal/consul:1.8.7",
        is_system=True,
        status=Container.Status.RUNNING if running else Container.Status.EXITED,
    )


def make_operation(
    team: Team, kind=Operation.Kind.NETWORK_CREATE, *, target="thing", status=Operation.Status.QUEUED, **fields
) -> Operation:
    progress = [{"at": "2026-01-01T10:00:00+00:00", "message": "Queued: waiting for a worker."}]
    if status != Operation.Status.QUEUED:
        progress.append({"at": "2026-01-01T10:00:01+00:00", "message": "Running."})
    return Operation.objects.create(
        tenant=team.tenant, cluster=team.cluster, kind=kind, target=target, status=status, progress=progress, **fields
    )


def run_form(cluster: Cluster, *, env=(), **fields) -> dict:
    """What the run form posts; `env` rows are (name, value, secret)."""
    data = {
        "cluster": cluster.pk,
        "image": "overlay-portal/tools:latest",
        "restart_policy": "no",
        "node": "",
        "ports": "",
        "env-TOTAL_FORMS": str(len(env)),
        "env-INITIAL_FORMS": "0",
    }
    for i, (name, value, secret) in enumerate(env):
        data[f"env-{i}-name"], data[f"env-{i}-value"] = name, value
        if secret:
            data[f"env-{i}-secret"] = "on"
    return {**data, **fields}


def populate(team: Team, count: int) -> dict:
    """A tenant that has been busy: `count` networks with their blocks, containers on a third of them
    (with addresses), networks shared both ways with a partner team on the same swarm (its containers
    on ours too), and operations finished and unfinished. Bulk-made, so 1,000 networks take seconds.

    Returns the objects a test asks pages about: an own network with containers and shares, a
    partner's network shared with the team, a container, an unfinished operation.
    """
    partner = tenant_create(name=f"Partner of {team.tenant.name}")
    ClusterGrant.objects.create(cluster=team.cluster, tenant=partner)
    node = team.node()
    blocks = ipam_blocks(team.cluster, count + count // 10 + 1)
    networks = Network.objects.bulk_create(
        Network(
            tenant=partner if i % 10 == 0 or i == 1 else team.tenant,
            cluster=team.cluster,
            name=f"net-{i:04}",
            subnet=str(block),
            gateway=str(block.network_address + 1),
            status=Network.Status.CREATING if i % 7 == 3 or i == 1 else Network.Status.ACTIVE,
            docker_id=f"{i:064x}",
            created_by=team.owner,
            labels={"app": f"svc{i % 5}"},
        )
        for i, block in enumerate(blocks)
    )
    SubnetAllocation.objects.bulk_create(
        SubnetAllocation(
            cluster=team.cluster,
            network=network,
            cidr=network.subnet,
            first=int(network.subnet_network.network_address),
            last=int(network.subnet_network.broadcast_address),
            owner=f'network "{network.name}"',
        )
        for network in networks
    )
    own = [n for n in networks if n.tenant_id == team.tenant.pk]
    theirs = [n for n in networks if n.tenant_id == partner.pk]
    NetworkShare.objects.bulk_create(
        [NetworkShare(network=n, tenant=partner, created_by=team.owner) for n in own[::4]]
        + [NetworkShare(network=n, tenant=team.tenant) for n in theirs]
    )
    attached = own[::3]

    def box(i: int, name: str, tenant, **fields) -> Container:
        return Container(
            tenant=tenant,
            cluster=team.cluster,
            node=node,
            name=name,
            image="overlay-portal/tools:latest",
            status=Container.Status.RUNNING,
            docker_id=f"c{i:063x}",
            **fields,
        )

    containers = Container.objects.bulk_create(
        box(
            i,
            f"box-{i:04}",
            team.tenant if i % 5 else partner,
            ports=[{"host": 8000 + i, "container": 80, "protocol": "tcp"}] if i % 4 == 1 else [],
            environment=[{"name": "MODE", "value": "x", "secret": False}],
        )
        for i in range(len(attached) + 1)  # the last one on no network: the detail pages offer to connect it
    )
    endpoints, addresses = [], []
    for i, (network, container) in enumerate(zip(attached, containers, strict=False)):
        places = [(network, 2)]
        if theirs and i % 2:
            places.append((theirs[i % len(theirs)], 3 + i // len(theirs)))
        for j, (on, host) in enumerate(places):
            address = str(on.subnet_network.network_address + host)
            endpoints.append(Endpoint(network=on, container=container, ipv4_address=address, aliases=[f"a{j}"]))
            addresses.append(AddressAllocation(network=on, address=address, owner=container.name))
    # The network the detail pages are asked about has more containers the more networks there are.
    crowded = attached[1] if len(attached) > 1 else attached[0]
    crowd = Container.objects.bulk_create(
        box(100_000 + i, f"crowd-{i:04}", team.tenant if i % 3 else partner) for i in range(count // 20)
    )
    for i, container in enumerate(crowd):
        address = str(crowded.subnet_network.network_address + 100 + i)
        endpoints.append(Endpoint(network=crowded, container=container, ipv4_address=address))
        addresses.append(AddressAllocation(network=crowded, address=address, owner=container.name))
    Endpoint.objects.bulk_create(endpoints)
    AddressAllocation.objects.bulk_create(addresses)

    def operation(kind, on, *, message="Done.", **fields) -> Operation:
        at = "2026-01-01T10:00:00+00:00"
        return Operation(
            tenant=fields.pop("tenant", team.tenant),
            cluster=team.cluster,
            kind=kind,
            target=on.name,
            progress=[{"at": at, "message": message}],
            **fields,
        )

    done = Operation.Status.SUCCEEDED
    operations = [
        operation(Operation.Kind.NETWORK_CREATE, n, tenant=n.tenant, network=n, requested_by=team.owner, status=done)
        for n in networks
    ]
    operations += [
        operation(Operation.Kind.CONTAINER_RUN, c, tenant=c.tenant, container=c, status=done) for c in containers
    ]
    for i, network in enumerate(n for n in own if n.status == Network.Status.CREATING):
        operations.append(
            operation(
                Operation.Kind.NETWORK_CONNECT,
                network,
                message="Queued: waiting for a worker.",
                network=network,
                container=containers[0],
                sent=timezone.now() if i % 2 == 0 else None,
            )
        )
    Operation.objects.bulk_create(operations)
    busy = Operation.objects.filter(tenant=team.tenant, sent__isnull=False).unfinished().first()
    return {
        "partner": partner,
        "network": crowded,
        "shared": theirs[0],
        "container": containers[1],
        "operation": busy,
    }


def ipam_blocks(cluster: Cluster, count: int) -> list:
    """The first `count` blocks of the cluster's pool at its default size, clear of its reserved ranges."""
    reserved = [r.network for r in cluster.reserved_ranges.all()]
    blocks = []
    for block in cluster.pool.subnets(new_prefix=cluster.default_prefixlen):
        if not any(block.overlaps(r) for r in reserved):
            blocks.append(block)
        if len(blocks) == count:
            return blocks
    return blocks
