import ipaddress
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

# The swarm's own rule for a network's name (swarmkit controlapi: "name must be valid as a DNS name
# component"): letters and digits, with hyphens and underscores only between them; no period.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$")
NAME_MAX_LENGTH = 63
MTU_MIN, MTU_MAX = 68, 9000  # IPv4's minimum; jumbo frames
# What the overlay driver takes from a network's MTU for its containers (libnetwork drivers/overlay,
# measured: --opt com.docker.network.driver.mtu=1400 gives a container eth0 MTU 1350): the VXLAN and
# outer headers, and on an encrypted network the ESP header and padding too.
VXLAN_OVERHEAD = 50
ESP_OVERHEAD = 26


def container_mtu(mtu: int | None, *, encrypted: bool) -> int:
    """The MTU a container on a network gets: the network's (the underlay's; Docker's default 1500) less
    what the overlay adds."""
    inner = (mtu or 1500) - VXLAN_OVERHEAD
    if encrypted:
        inner -= ESP_OVERHEAD
        inner -= inner % 4
    return inner


PREDEFINED_NAMES = frozenset({"bridge", "host", "none", "ingress", "docker_gwbridge"})


def validate_network_name(name: str) -> None:
    if not NAME_PATTERN.match(name or ""):
        raise ValidationError(
            f'"{name}" is not a valid network name: the swarm takes names as DNS labels, so use letters and '
            "digits, with hyphens or underscores only between them (no periods or spaces), such as my-network.",
            code="invalid_name",
        )
    if name.lower() in PREDEFINED_NAMES:
        raise ValidationError(
            f'"{name}" is one of Docker\'s predefined networks (bridge, host, none, ingress, docker_gwbridge). '
            "Pick another name.",
            code="predefined_name",
        )


class NetworkStatus(models.TextChoices):
    CREATING = "creating", "Creating"
    ACTIVE = "active", "Active"
    REMOVING = "removing", "Removing"
    REMOVED = "removed", "Removed"
    FAILED = "failed", "Failed"


class NetworkQuerySet(models.QuerySet["Network"]):
    def live(self):
        """Being created, active or being removed: they hold their name and their subnet."""
        return self.filter(status__in=Network.LIVE_STATUSES)

    def usable_by(self, tenant):
        """The tenant's own networks and those shared with it on purpose (never another team's, never external).

        `pk__any_of`, not `pk__in`: on PostgreSQL the shared ids become one array, so the OR reads the
        tenant's index and the primary key's instead of every network of every team (flat at 10,000)."""
        shared = NetworkShare.objects.filter(tenant=tenant).values("network_id")
        return self.filter(models.Q(tenant=tenant) | models.Q(pk__any_of=shared))


class Network(models.Model):
    """An overlay network on a cluster, made by the portal or found on the cluster (external)."""

    Status = NetworkStatus

    # Which status may follow which; services refuse anything else, so a retried task can tell
    # what is already done.
    TRANSITIONS = {
        Status.CREATING: {Status.ACTIVE, Status.FAILED},
        Status.ACTIVE: {Status.REMOVING, Status.REMOVED},
        Status.REMOVING: {Status.REMOVED, Status.ACTIVE},
        Status.FAILED: {Status.REMOVED, Status.CREATING},
        Status.REMOVED: set(),
    }
    LIVE_STATUSES = (Status.CREATING, Status.ACTIVE, Status.REMOVING)

    tenant = models.ForeignKey(
        "portal.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="networks",
        help_text="The team that made it; empty for a network made outside the portal (staff see those by name).",
    )
    cluster = models.ForeignKey("networks.Cluster", on_delete=models.PROTECT, related_name="networks")
    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[validate_network_name])
    subnet = models.CharField(max_length=43)
    gateway = models.GenericIPAddressField(protocol="IPv4")
    internal = models.BooleanField(default=False, help_text="No traffic to or from outside the network.")
    encrypted = models.BooleanField(default=False, help_text="Encrypt traffic between nodes (IPsec).")
    labels = models.JSONField(default=dict, blank=True)
    ip_range = models.CharField(
        max_length=18,
        blank=True,
        verbose_name="IP range",
        help_text="Docker hands containers addresses from this part of the subnet only; empty for all of it.",
    )
    aux_addresses = models.JSONField(
        default=dict,
        blank=True,
        verbose_name="auxiliary addresses",
        help_text="Name -> address of devices already on the subnet (a router): never given to a container.",
    )
    mtu = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="MTU",
        help_text="Docker's com.docker.network.driver.mtu: the underlay's MTU; containers get 50 bytes less. "
        "Empty for Docker's default (1500).",
    )
    attachable = models.BooleanField(
        default=True, help_text="Standalone containers may join it; otherwise only swarm services."
    )
    last_attached = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a container last joined or left it; with no container on it, unused since then "
        "(or since it was made).",
    )
    description = models.CharField(
        max_length=500, blank=True, help_text="What the network is for, in the team's words; never sent to Docker."
    )
    is_external = models.BooleanField(
        default=False, help_text="Found on the cluster rather than made by the portal; its subnet is blocked."
    )
    docker_id = models.CharField(max_length=64, blank=True, verbose_name="Docker network ID")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = NetworkQuerySet.as_manager()

    class Meta:
        ordering = ["cluster", "name"]
        verbose_name = "network"
        verbose_name_plural = "networks"
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "name"],
                condition=~models.Q(status=NetworkStatus.REMOVED),
                name="network_unique_live_name_per_cluster",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=NetworkStatus.values),
                name="network_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(is_external=True) | models.Q(tenant__isnull=False),
                name="network_tenant_unless_external",
            ),
            models.CheckConstraint(
                condition=models.Q(mtu__isnull=True) | models.Q(mtu__gte=MTU_MIN, mtu__lte=MTU_MAX),
                name="network_mtu_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status"], name="network_tenant_status_idx"),
            # The events follower and its follow-ups find a network by the id Docker reports.
            models.Index(fields=["cluster", "docker_id"], name="network_cluster_docker_id_idx"),
            # Reconcile asks for a swarm's latest change to tell whether its Consul keys need comparing,
            # and for its failed networks (a few among thousands).
            models.Index(fields=["cluster", "updated"], name="network_cluster_updated_idx"),
            models.Index(fields=["cluster", "status"], name="network_cluster_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def container_mtu(self) -> int:
        return container_mtu(self.mtu, encrypted=self.encrypted)

    @property
    def subnet_network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    def can_transition(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    def is_usable_by(self, tenant) -> bool:
        """Whether the tenant may run and connect containers on it: its own, or shared with it."""
        return self.tenant_id == tenant.pk or self.shares.filter(tenant=tenant).exists()


TAG_MAX_LENGTH = 32


class NetworkTag(models.Model):
    """A word a team files its network under (pci, staging), kept by the portal only: Docker's labels are set
    at create and cannot change (moby #27598); tags can."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=TAG_MAX_LENGTH)

    class Meta:
        ordering = ["network", "name"]
        verbose_name = "network tag"
        verbose_name_plural = "network tags"
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="networktag_unique_network_name"),
        ]
        indexes = [models.Index(fields=["name", "network"], name="networktag_name_network_idx")]

    def __str__(self) -> str:
        return self.name


class NetworkShare(models.Model):
    """A network its owner lets another tenant of the same cluster use: run and connect containers on it.

    The other tenant sees its name, subnet and the names of the containers on it; it can neither
    change nor remove it, nor see the owner's containers beyond their names.
    """

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="shares")
    tenant = models.ForeignKey("portal.Tenant", on_delete=models.CASCADE, related_name="network_shares")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network", "tenant__name"]
        verbose_name = "network share"
        verbose_name_plural = "network shares"
        constraints = [
            models.UniqueConstraint(fields=["network", "tenant"], name="networkshare_unique_network_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.network} shared with {self.tenant}"
