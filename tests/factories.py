"""Test factories: the one place a test makes a team, a user, a token, a cluster, a network, a container or
an operation without going through a page or the API.

`make_team()` is a tenant with an owner, a member and a viewer on a cluster that is only rows (no Docker
or Consul is called); `make_team(name, api=True)` records its cluster as registration does, from a swarm
nobody calls and a bundle made here, and gives each role an API token (`team.api("member")`). Networks are
made the way the services make them (subnet_allocate holds each network's block). Tests that need the
real cluster use the `tenant_cluster` fixture, which calls `register_local`.
"""

from __future__ import annotations

import datetime
import functools
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from networks import ipam
from networks.bundles import Bundle, bundle_from_parts, bundle_read
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
from networks.services.clusters.connect import SwarmFound
from networks.services.clusters.registration import cluster_record, cluster_register
from networks.services.containers.run import container_run
from networks.services.networks.create import network_create
from portal.actors import Actor
from portal.models import Membership, Tenant
from portal.services import api_token_create, membership_set, tenant_create
from tests.apiclient import Api

PASSWORD = "portal-test-pw"
numbers = itertools.count(1)  # for names that must not repeat within a run


@dataclass
class Team:
    """A tenant, its users by role (and their API tokens when made with `api=True`) and its cluster."""

    tenant: Tenant
    cluster: Cluster
    users: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)

    @property
    def owner(self):
        return self.users[Membership.Role.OWNER]

    @property
    def member(self):
        return self.users[Membership.Role.MEMBER]

    @property
    def viewer(self):
        return self.users[Membership.Role.VIEWER]

    def node(self, name: str = "node1") -> Node:
        return self.cluster.nodes.get(name=name)

    def api(self, role: str = "owner", **kwargs) -> Api:
        return Api(self.keys[role], **kwargs)

    def network(self, name: str | None = None, status=Network.Status.ACTIVE, **kwargs) -> Network:
        """A network made by the service (its operation left queued), then marked as the worker would."""
        operation = network_create(
            actor=Actor.system("tests"),
            tenant=self.tenant,
            cluster=self.cluster,
            name=name or f"net{next(numbers)}",
            **kwargs,
        )
        Network.objects.filter(pk=operation.network_id).update(status=status, docker_id="d" * 64)
        return Network.objects.get(pk=operation.network_id)

    def container(self, name: str | None = None, status=Container.Status.RUNNING, **kwargs) -> Container:
        """A container run by the service (its operation left queued), then marked as the worker would."""
        kwargs.setdefault("image", "overlay-portal/tools:latest")
        operation = container_run(
            actor=Actor.system("tests"),
            tenant=self.tenant,
            cluster=self.cluster,
            name=name or f"c{next(numbers)}",
            **kwargs,
        )
        Container.objects.filter(pk=operation.container_id).update(status=status, docker_id="c" * 64)
        return Container.objects.get(pk=operation.container_id)


@functools.cache
def _password_hash() -> str:
    return make_password(PASSWORD)  # hashed once: the hasher is slow on purpose


def make_user(username: str):
    """A user who signs in with PASSWORD."""
    return get_user_model().objects.create(username=username, password=_password_hash())


def make_staff(username: str):
    """The portal's staff (a superuser): the admin and the cluster pages are theirs, whatever team they are in."""
    user = make_user(username)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def make_token(user) -> str:
    """A new API token's key for the user."""
    return api_token_create(actor=Actor.system("tests"), user=user, name="tests")[1]


ROLES = (Membership.Role.OWNER, Membership.Role.MEMBER, Membership.Role.VIEWER)


def add_users(tenant: Tenant, prefix: str) -> tuple:
    """An owner, a member and a viewer of the tenant (in that order), named PREFIX-ROLE."""
    users = []
    for role in ROLES:
        user = make_user(f"{prefix}-{role}")
        membership_set(tenant=tenant, user=user, role=role)
        users.append(user)
    return tuple(users)


def make_team(name: str | None = None, *, api: bool = False) -> Team:
    """A tenant with a user per role on a cluster of its own: rows only, or (`api`) recorded from a swarm
    nobody calls, with an API token per role."""
    number = next(numbers)
    tenant = tenant_create(name=name or f"Team {number}")
    if api:
        found = found_swarm(swarm_id=f"swarm-{tenant.slug}")
        cluster = cluster_record(tenant=tenant, found=found, bundle=made_bundle(), name=f"local-{tenant.slug}")
    else:
        cluster = make_cluster(tenant, octet=100 + number % 100)
    team = Team(tenant=tenant, cluster=cluster)
    for role, user in zip(ROLES, add_users(tenant, tenant.slug), strict=True):
        team.users[role] = user
        if api:
            team.keys[role] = make_token(user)
    return team


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


def register_local(tenant, description: dict, name: str | None = None) -> Cluster:
    """The local cluster (cluster/cluster up) registered for the tenant from its bundle, over TLS."""
    return cluster_register(
        actor=Actor.system("tests"),
        tenant=tenant,
        bundle=bundle_read(Path(description["bundle"]).read_bytes()),
        name=name or description["name"],
        registry=description.get("registry", ""),
    )


def found_swarm(*, swarm_id: str, nodes: tuple[dict, ...] | None = None) -> SwarmFound:
    """What a connection would have read from a swarm that nobody calls: its addresses answer nothing."""
    return SwarmFound(
        swarm_id=swarm_id,
        api_version="1.41",
        docker_host="tcp://127.0.0.1:9",
        nodes=nodes
        or (
            {"name": "node1", "address": "192.0.2.11", "role": "manager", "docker_endpoint": "tcp://127.0.0.1:9"},
            {"name": "node2", "address": "192.0.2.12", "role": "worker", "docker_endpoint": "tcp://127.0.0.1:9"},
        ),
        consul_address="http://127.0.0.1:9",
    )


@functools.lru_cache(maxsize=8)
def made_bundle(docker_host: str = "tcp://127.0.0.1:9", *, days: int = 30) -> Bundle:
    """A bundle with a CA and a client certificate made here (for clusters nobody calls)."""
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key, issuer: str, issuer_key, ca: bool):
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    pem = lambda cert: cert.public_bytes(serialization.Encoding.PEM).decode()  # noqa: E731
    return bundle_from_parts(
        docker_host=docker_host,
        ca_pem=pem(certificate("test CA", ca_key, "test CA", ca_key, True)),
        cert_pem=pem(certificate("portal", key, "test CA", ca_key, False)),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


def make_network(
    team: Team, name: str, *, status=Network.Status.ACTIVE, subnet: str | None = None, **fields
) -> Network:
    """A network as rows: its block held by subnet_allocate, as the service holds it; no Docker call."""
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
    """A container as rows, with an endpoint on each of `networks`."""
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
    """The node's Consul agent, as the portal records its system containers."""
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
    """An operation with the progress a queued (and, past queued, a started) one has."""
    progress = [{"at": "2026-01-01T10:00:00+00:00", "message": "Queued: waiting for a worker."}]
    if status != Operation.Status.QUEUED:
        progress.append({"at": "2026-01-01T10:00:01+00:00", "message": "Running."})
    return Operation.objects.create(
        tenant=team.tenant, cluster=team.cluster, kind=kind, target=target, status=status, progress=progress, **fields
    )
