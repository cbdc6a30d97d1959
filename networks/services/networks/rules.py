"""What every change to a network checks: a network the team may use, one only its own team may change,
one a standalone container may join, its name and MTU, and the moves its status may make."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from networks.models import Cluster, Network
from networks.models.network import MTU_MAX, MTU_MIN, NAME_MAX_LENGTH, VXLAN_OVERHEAD, validate_network_name
from plumbing.errors import ServiceError
from plumbing.prepared import PreparedRows
from plumbing.saves import PreparedSave
from plumbing.writes import Writes


def network_not_usable(ref, *, field: str | None = "networks") -> ServiceError:
    """The one refusal for a network the tenant may not use: missing, another team's, or not shared."""
    return ServiceError(
        "not_found", f'No network "{ref}" that your team can use on this cluster.', field=field, http_status=404
    )


def network_owned(*, tenant, network: Network, verb: str) -> Network:
    """Lock the network for a change only its own team may make; a network shared with the tenant says so."""
    network = Network.objects.select_for_update().get(pk=network.pk)
    if network.tenant_id != tenant.pk:
        if network.is_usable_by(tenant):
            assert network.tenant is not None, "a network another team may use is shared by the team that owns it"
            raise ServiceError(
                "shared_network",
                f'Network "{network.name}" is shared with {tenant.name} by {network.tenant.name}: your team can run '
                f"and connect containers on it, but only {network.tenant.name} can {verb} it.",
                http_status=403,
            )
        raise network_not_usable(network.pk, field=None)
    return network


def check_attachable(network: Network, container_name: str) -> None:
    """Refuse a standalone container on a network only swarm services may join."""
    if not network.attachable:
        raise ServiceError(
            "not_attachable",
            f'Network "{network.name}" is not attachable: only swarm services can join it, not a standalone '
            f"container such as {container_name}. Pick another network, or create one with attachable on.",
            field="networks",
            http_status=409,
        )


MTU_SENTENCE = (
    f"MTU is a whole number of bytes from {MTU_MIN} to {MTU_MAX}, such as 1450; leave it empty for Docker's default "
    "(1500)."
)


def check_mtu(mtu) -> int | None:
    """The MTU asked for (None for Docker's default), a whole number of bytes Docker and IPv4 accept."""
    if mtu is None or mtu == "":
        return None
    if isinstance(mtu, bool) or not isinstance(mtu, int) or not MTU_MIN <= mtu <= MTU_MAX:
        raise ServiceError("bad_mtu", MTU_SENTENCE, field="mtu")
    return mtu


def mtu_warning(cluster: Cluster, mtu: int | None) -> str | None:
    """A sentence when `mtu` is above the underlay MTU a node of the cluster reported: VXLAN packets that
    large do not fit the underlay and are dropped (libnetwork #1021, moby #37855). None when it fits."""
    if mtu is None:
        return None
    node = cluster.nodes.filter(underlay_mtu__isnull=False).order_by("underlay_mtu", "name").first()
    if node is None or node.underlay_mtu is None or mtu <= node.underlay_mtu:
        return None
    return (
        f"MTU {mtu} is above the underlay MTU of node {node.name} ({node.underlay_mtu}): the overlay's packets "
        f"will not fit it and large transfers will hang. Unless the underlay's MTU is raised, use at most "
        f"{node.underlay_mtu} (containers then get {node.underlay_mtu - VXLAN_OVERHEAD})."
    )


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", "Give the network a name, such as mynetwork.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ServiceError(
            "name_too_long",
            f"Network names are at most {NAME_MAX_LENGTH} characters; this one has {len(name)}.",
            field="name",
        )
    try:
        validate_network_name(name)
    except ValidationError as exc:
        raise ServiceError(exc.code or "invalid_name", exc.messages[0], field="name") from exc
    return name


def check_name_free(cluster: Cluster, name: str, *, taken: set[str] | None = None) -> None:
    """Under the swarm's lock: two teams asking for one name at once are told in turn, not by the constraint.

    `taken`: what `names_taken` said of this name among others, under the same lock (a batch asks once)."""
    if name in (_name_taken(cluster, name) if taken is None else taken):
        raise ServiceError(
            "name_taken",
            f'A network named "{name}" already exists on cluster {cluster.name}. Pick another name.',
            field="name",
            http_status=409,
        )


def names_taken(cluster: Cluster, names) -> set[str]:
    """The names among `names` that a live network of the cluster has, in one query."""
    return set(Network.objects.filter(cluster=cluster, name__in=list(names)).live().values_list("name", flat=True))


# names_taken of one name, as every single create asks it under the swarm's lock: compiled once.
_one_name_taken = PreparedRows(
    lambda cluster, name: Network.objects.filter(cluster=cluster, name__in=[name]).live().values("name"),
    "cluster",
    text=("name",),
)


def _name_taken(cluster: Cluster, name: str) -> set[str]:
    if type(name) is not str:
        return names_taken(cluster, [name])
    return {row["name"] for row in _one_name_taken(cluster=cluster.pk, name=name)}


_status_save = PreparedSave(Network, ["status", "docker_id", "updated"])  # its UPDATE written once


def set_status(network: Network, status: str, *, writes: Writes | None = None) -> None:
    """`writes`: its UPDATE among them, sent by the caller (plumbing/writes.py), which holds the row's lock."""
    if network.status != status and not network.can_transition(status):
        raise ServiceError(
            "bad_state",
            f'Network "{network.name}" is {network.get_status_display().lower()}; it cannot become {status}.',
            http_status=409,
        )
    network.status = status
    _status_save(network, writes=writes)
