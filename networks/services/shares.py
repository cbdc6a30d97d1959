"""Sharing a network on purpose with another team of the same cluster ("use" without "manage").

The other team may run and connect its containers on the network and sees its name, subnet and
the names of the containers on it; it can neither change nor remove the network. The owner can
stop sharing, which is refused while the other team's containers are attached unless the owner
asks to disconnect them.

A run or a connect of the other team's on the network races the unshare, and the container's row is
where they meet: their last step locks it and looks at the share again (`endpoints.check_still_shared`),
and the unshare locks the same rows before it decides. One finished by then is disconnected like any
container; one still on its way is left alone and fails at that look with a sentence naming the
unshare (its clean-up takes what it made off the node), never half-recorded.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from networks.models import ClusterGrant, Container, Endpoint, Network, NetworkShare, Operation
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.changes import change_record
from portal.models import Tenant

from .networks.attach import network_disconnect_request
from .networks.rules import network_owned
from .records import operations_change_record

OWNERS_ONLY = "Only the team's owners can share its networks or stop sharing them."


def _other_tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=(slug or "").strip()).first()
    if tenant is None:
        raise ServiceError("no_such_team", f'No team "{slug}". Use the team\'s short name (slug).', field="tenant")
    return tenant


@transaction.atomic
def network_share(*, actor: Actor, tenant: Tenant, network: Network, with_tenant: str) -> NetworkShare:
    """Let another team of the network's cluster use the network."""
    network = network_owned(tenant=tenant, network=network, verb="share")
    other = _other_tenant(with_tenant)
    if other.pk == tenant.pk:
        raise ServiceError("share_self", f"{network.name} is already {tenant.name}'s own network.", field="tenant")
    if network.status not in (Network.Status.CREATING, Network.Status.ACTIVE):
        raise ServiceError(
            "bad_state",
            f'Network "{network.name}" is {network.get_status_display().lower()}; only a live network can be shared.',
            http_status=409,
        )
    if not ClusterGrant.objects.filter(cluster=network.cluster_id, tenant=other).exists():
        raise ServiceError(
            "not_on_cluster",
            f"{other.name} does not use cluster {network.cluster.name}, so it cannot use {network.name}. "
            "An admin can grant it the cluster first.",
            field="tenant",
            http_status=409,
        )
    share, created = NetworkShare.objects.get_or_create(
        network=network,
        tenant=other,
        defaults={"created_by": actor.user},
    )
    if not created:
        raise ServiceError(
            "already_shared", f"{network.name} is already shared with {other.name}.", field="tenant", http_status=409
        )
    change_record(actor=actor, action="network.share", tenant=tenant, obj=network, details={"with": with_tenant})
    return share


@transaction.atomic
def network_unshare(
    *, actor: Actor, tenant: Tenant, network: Network, with_tenant: str, disconnect: bool = False
) -> list[Operation]:
    """Stop sharing; refused while the other team's containers are attached, unless `disconnect`.

    Returns the disconnect operations started for the other team's containers (none otherwise).
    """
    network = network_owned(tenant=tenant, network=network, verb="stop sharing")
    other = _other_tenant(with_tenant)
    share = NetworkShare.objects.filter(network=network, tenant=other).first()
    if share is None:
        raise ServiceError(
            "not_shared", f"{network.name} is not shared with {other.name}.", field="tenant", http_status=404
        )
    # The lock a run's or a connect's last step takes (check_still_shared): either finished before this,
    # or sees the share gone after it. Endpoints and operations are read once it is held.
    theirs = Container.objects.filter(tenant=other, endpoints__network=network).values("pk")
    list(Container.objects.select_for_update().filter(pk__in=theirs).order_by("pk").values_list("pk", flat=True))
    attached = list(
        Endpoint.objects.filter(network=network, container__tenant=other)
        .select_related("container")
        .order_by("container__name")
    )
    if attached and not disconnect:
        names = ", ".join(e.container.name for e in attached)
        raise ServiceError(
            "containers_attached",
            f"{other.name}'s containers are still on {network.name}: {names}. Ask them to disconnect, or stop "
            "sharing with disconnect to take them off the network.",
            http_status=409,
        )
    # A run or a connect still on its way is not disconnected: it fails when it finds the share gone.
    starting = set(
        Operation.objects.filter(container__in=[e.container_id for e in attached])
        .filter(Q(kind=Operation.Kind.CONTAINER_RUN) | Q(kind=Operation.Kind.NETWORK_CONNECT, network=network))
        .unfinished()
        .values_list("container_id", flat=True)
    )
    operations = [
        network_disconnect_request(tenant=tenant, network=network, container=e.container, user=actor.user, force=True)
        for e in attached
        if e.container_id not in starting
    ]
    share.delete()
    operations_change_record(
        actor=actor,
        action="network.unshare",
        tenant=tenant,
        operations=operations,
        obj=network,
        details={"with": with_tenant},
    )
    return operations
