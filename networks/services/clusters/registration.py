"""Registering a swarm as a cluster (its name, registry and first team checked; new, refreshed, or
refused when another team has it) and deregistering it once no team has anything on it."""

from __future__ import annotations

import re

from django.db import transaction

from networks import ipam
from networks.bundles import Bundle
from networks.models import Cluster, ClusterGrant, ReservedRange
from networks.services.reconcile import cluster_reconcile_request
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.models import Tenant

from .connect import CONNECT_WAIT_SECONDS, SwarmFound, cluster_connect, cluster_connect_ask
from .credentials import cluster_change_record, cluster_credentials_set, cluster_nodes_record
from .health import cluster_refresh_health_request

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
REGISTRY_PATTERN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?")


def cluster_register(
    *, actor: Actor, tenant: Tenant, bundle: Bundle, name: str, registry: str = "", bundle_name: str = ""
) -> Cluster:
    """Connect with the bundle, then record the swarm for the tenant (a command's way: it may call the cluster).

    `bundle_name`: the file the bundle was read from, for the audit log."""
    found = cluster_connect(bundle)
    with transaction.atomic():
        cluster = cluster_record(tenant=tenant, found=found, bundle=bundle, name=name, registry=registry)
        details = {"bundle": bundle_name} if bundle_name else {}
        cluster_change_record(actor=actor, action="cluster.register", cluster=cluster, tenant=tenant, details=details)
    return cluster


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
    *,
    actor: Actor,
    tenant: Tenant,
    bundle: Bundle,
    name: str,
    registry: str = "",
    timeout: float = CONNECT_WAIT_SECONDS,
) -> Cluster:
    """The web's way to register (pages, admin, API): a worker connects with the bundle (its key sealed);
    nothing is saved unless the swarm answered. Then workers reconcile the cluster and look at its health."""
    name, registry = cluster_name_check(name), registry_check(registry)
    found = cluster_connect_ask(bundle, timeout=timeout)
    with transaction.atomic():
        cluster = cluster_record(tenant=tenant, found=found, bundle=bundle, name=name, registry=registry)
        cluster_change_record(actor=actor, action="cluster.register", cluster=cluster, tenant=tenant)
    cluster_reconcile_request(cluster=cluster, user=actor.user)
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
    if cluster is None:
        cluster = Cluster(name=name)
    # The same swarm again, or (same name, new ID) the swarm was rebuilt: its old networks are gone
    # with it, and the reconcile that follows registration marks them so.
    cluster.swarm_id = found.swarm_id
    cluster.registry = registry or cluster.registry
    cluster_credentials_set(cluster, found, bundle)
    cluster.save()
    if created:
        ReservedRange.objects.create(
            cluster=cluster, cidr=str(ipam.SERVICENET), description="ServiceNet", is_servicenet=True
        )
        ClusterGrant.objects.create(cluster=cluster, tenant=tenant)
    cluster_nodes_record(cluster, found)
    return cluster


@transaction.atomic
def cluster_deregister(*, actor: Actor, cluster: Cluster) -> None:
    """Forget a cluster; refused while any team still has networks or containers on it (named)."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    cluster_id = cluster.pk
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
    cluster_change_record(actor=actor, action="cluster.deregister", cluster=cluster, cluster_id=cluster_id)


def _names(names: list[str]) -> str:
    shown = ", ".join(f'"{name}"' for name in names[:10])
    return shown + (" and more" if len(names) > 10 else "")
