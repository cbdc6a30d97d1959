import ipaddress
import uuid
from functools import cached_property, lru_cache

from django.core.exceptions import ValidationError
from django.db import models

from networks import ipam
from networks.engine.endpoints import ConsulEndpoint, DockerEndpoint, TlsCredentials
from networks.sealing import secret_open

DEFAULT_POOL = "10.0.0.0/8"
DEFAULT_PREFIXLEN = 24


@lru_cache(maxsize=64)
def _opened(sealed: str) -> str:
    """A cluster's key or Consul token, opened once per process, not on every operation's run (Fernet's check
    and decryption were ~4% of a worker's CPU per create): the engines' clients, cached per endpoint and
    credentials (networks/engine/), keep it for as long anyway. A value sealed anew (a rotation, another key)
    is another entry; one no key opens is not kept and raises each time."""
    return secret_open(sealed)


class Cluster(models.Model):
    """A Docker Swarm with a Consul agent on every node; one row per swarm, used by the tenants granted it.

    All tenants on a swarm share one address pool, one allocation lock (this row) and one set of
    Consul keys under the swarm's own prefix: the swarm itself has only one address space.
    """

    name = models.SlugField(max_length=63, help_text="What the portal calls the cluster, such as local or prod.")
    swarm_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        verbose_name="swarm ID",
        help_text="The swarm's own ID (docker info: Swarm.Cluster.ID), read from the cluster when it is registered.",
    )
    uid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="Names this cluster's keys in its Consul."
    )
    docker_endpoint = models.CharField(
        max_length=255, help_text="Docker API of the swarm manager, e.g. tcp://192.168.250.11:2376 (DOCKER_HOST)."
    )
    consul_address = models.CharField(
        max_length=255, help_text="Consul HTTP API of the cluster, e.g. http://192.168.250.11:8500."
    )
    # Mutual TLS, from the cluster's credentials bundle: the CA and client certificate are public, the
    # key (and a Consul ACL token) are sealed with PORTAL_SECRETS_KEYS and never shown again.
    tls_ca = models.TextField(blank=True, default="", editable=False, verbose_name="CA certificate (ca.pem)")
    tls_cert = models.TextField(blank=True, default="", editable=False, verbose_name="client certificate (cert.pem)")
    tls_key_sealed = models.TextField(blank=True, default="", editable=False)
    consul_token_sealed = models.TextField(blank=True, default="", editable=False)
    credentials_expire = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the client certificate stops being valid."
    )
    credentials_updated = models.DateTimeField(null=True, blank=True, editable=False)
    registry = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="The cluster's image registry (host:port), whose images the run form offers, e.g. 192.168.250.1:5000.",
    )
    address_pool = models.CharField(
        max_length=43, default=DEFAULT_POOL, help_text="Overlay subnets are handed out from this IPv4 range."
    )
    default_prefixlen = models.PositiveSmallIntegerField(
        default=DEFAULT_PREFIXLEN, help_text="Size of a network's subnet when none is asked for (/24 = 254 addresses)."
    )
    allocation_floor = models.BigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Every address of the pool below this one is known to be taken; the allocator starts here.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "cluster"
        verbose_name_plural = "clusters"
        constraints = [
            models.UniqueConstraint(fields=["name"], name="cluster_unique_name"),
            models.UniqueConstraint(
                fields=["swarm_id"], condition=~models.Q(swarm_id=""), name="cluster_unique_swarm_id"
            ),
            models.CheckConstraint(
                condition=models.Q(default_prefixlen__gte=ipam.MIN_PREFIXLEN)
                & models.Q(default_prefixlen__lte=ipam.MAX_PREFIXLEN),
                name="cluster_default_prefixlen_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def tls(self) -> TlsCredentials | None:
        """The credentials the engines ask for, the key opened (only a worker or a command calls the cluster)."""
        if not self.tls_key_sealed:
            return None
        return TlsCredentials(ca_pem=self.tls_ca, cert_pem=self.tls_cert, key_pem=_opened(self.tls_key_sealed))

    @property
    def docker(self) -> DockerEndpoint:
        """The swarm manager's Docker API."""
        return DockerEndpoint(self.docker_endpoint, self.tls)

    @property
    def consul(self) -> ConsulEndpoint:
        return ConsulEndpoint(
            self.consul_address, _opened(self.consul_token_sealed) if self.consul_token_sealed else ""
        )

    @property
    def pool(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.address_pool)

    def save(self, *args, **kwargs):
        if self.pk and "update_fields" not in kwargs:
            previous = Cluster.objects.filter(pk=self.pk).values_list("address_pool", flat=True).first()
            if previous != self.address_pool:
                self.allocation_floor = None  # the floor is an address of the old pool
        super().save(*args, **kwargs)

    @property
    def consul_prefix(self) -> str:
        """The swarm's own prefix: every portal writer on the swarm meets the same reservations."""
        if self.swarm_id:
            return f"overlay-portal/swarms/{self.swarm_id}"
        return f"overlay-portal/clusters/{self.uid}"

    def clean(self) -> None:
        try:
            pool = ipaddress.IPv4Network(self.address_pool)
        except ValueError:
            raise ValidationError(
                {"address_pool": f'"{self.address_pool}" is not an IPv4 range in CIDR notation, such as 10.0.0.0/8.'}
            ) from None
        if self.default_prefixlen is not None and self.default_prefixlen < pool.prefixlen:
            raise ValidationError(
                {"default_prefixlen": f"/{self.default_prefixlen} blocks do not fit in the pool {pool}."}
            )


class ClusterGrant(models.Model):
    """A tenant's right to use a cluster, with the most it may hold there (empty: no limit)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="grants")
    tenant = models.ForeignKey("portal.Tenant", on_delete=models.CASCADE, related_name="cluster_grants")
    max_networks = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most live networks the tenant may have on the cluster; empty for no limit."
    )
    max_containers = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most live containers the tenant may have on the cluster; empty for no limit."
    )
    max_published_ports = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most ports the tenant's containers may publish on the cluster; empty for no limit.",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cluster", "tenant__name"]
        verbose_name = "cluster grant"
        verbose_name_plural = "cluster grants"
        constraints = [
            models.UniqueConstraint(fields=["cluster", "tenant"], name="clustergrant_unique_cluster_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster} for {self.tenant}"


class ReservedRange(models.Model):
    """A range no network may use: ServiceNet, host networks, VPNs."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="reserved_ranges")
    cidr = models.CharField(max_length=43, verbose_name="CIDR")
    description = models.CharField(max_length=200)
    is_servicenet = models.BooleanField(
        default=False, help_text="Containers on a subnet overlapping ServiceNet lose connectivity to it."
    )

    class Meta:
        ordering = ["cluster", "cidr"]
        verbose_name = "reserved range"
        verbose_name_plural = "reserved ranges"
        constraints = [
            models.UniqueConstraint(fields=["cluster", "cidr"], name="reservedrange_unique_cluster_cidr"),
        ]

    def __str__(self) -> str:
        return f"{self.cidr} ({self.description})"

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # A changed reserved range may free or take blocks below the allocator's floor.
        Cluster.objects.filter(pk=self.cluster_id).update(allocation_floor=None)

    def delete(self, *args, **kwargs):
        Cluster.objects.filter(pk=self.cluster_id).update(allocation_floor=None)
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        try:
            self.cidr = str(ipaddress.IPv4Network(self.cidr, strict=False))
        except ValueError:
            raise ValidationError(
                {"cidr": f'"{self.cidr}" is not an IPv4 range in CIDR notation, such as 10.176.224.0/19.'}
            ) from None


class Node(models.Model):
    """One Docker engine of a cluster, as the swarm reports it."""

    class Role(models.TextChoices):
        MANAGER = "manager", "Manager"
        WORKER = "worker", "Worker"

    class State(models.TextChoices):
        READY = "ready", "Ready"
        DOWN = "down", "Down"
        UNKNOWN = "unknown", "Unknown"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="nodes")
    name = models.CharField(max_length=63)
    docker_endpoint = models.CharField(max_length=255)
    address = models.GenericIPAddressField(protocol="IPv4", help_text="Published ports answer on this address.")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.WORKER)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UNKNOWN)
    consul_container = models.CharField(max_length=128, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    listening_ports = models.JSONField(
        default=list,
        blank=True,
        help_text='[[port, "tcp"|"udp"], ...] programs of the node itself listened on when a worker last looked; '
        "a container may not publish them.",
    )
    underlay_mtu = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="underlay MTU",
        help_text="The MTU of the node's interface that carries the swarm's traffic, when a worker last looked.",
    )
    events_seen_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Docker's events of this node are handled up to here: a restarted events follower resumes from it.",
    )

    class Meta:
        ordering = ["cluster", "name"]
        verbose_name = "node"
        verbose_name_plural = "nodes"
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="node_unique_cluster_name"),
            models.UniqueConstraint(fields=["cluster", "address"], name="node_unique_cluster_address"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster.name}/{self.name}"

    @property
    def docker(self) -> DockerEndpoint:
        """This node's Docker API, with its cluster's credentials."""
        return DockerEndpoint(self.docker_endpoint, self.cluster.tls)
