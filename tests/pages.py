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

from networks import ipam
from networks.models import (
    Cluster,
    ClusterGrant,
    Container,
    Endpoint,
    Network,
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
