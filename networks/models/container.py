from django.db import models

from .cluster import Node


class ContainerStatus(models.TextChoices):
    CREATING = "creating", "Creating"
    RUNNING = "running", "Running"
    EXITED = "exited", "Exited"
    REMOVING = "removing", "Removing"
    REMOVED = "removed", "Removed"
    FAILED = "failed", "Failed"


class ContainerQuerySet(models.QuerySet["Container"]):
    def present(self):
        """Every container not yet removed (creating, running, exited, failed, removing)."""
        return self.exclude(status=Container.Status.REMOVED)

    def exposed(self, exposed: bool = True):
        """Those that publish ports (or, with False, those that do not): the same rule as
        Container.is_exposed, asked to publish or Docker says it published."""
        published = models.Q(publish_all=True) | ~models.Q(ports=[]) | ~models.Q(published_ports=[])
        return self.filter(published) if exposed else self.exclude(published)


class Container(models.Model):
    """A container on one node of a cluster: the tenant's own, or a protected system container."""

    Status = ContainerStatus

    tenant = models.ForeignKey(
        "portal.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="containers"
    )
    cluster = models.ForeignKey("networks.Cluster", on_delete=models.CASCADE, related_name="containers")
    node = models.ForeignKey(
        "networks.Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="containers"
    )
    name = models.CharField(max_length=128)
    image = models.CharField(max_length=255)
    command = models.JSONField(default=list, blank=True)
    environment = models.JSONField(
        default=list, blank=True, help_text='[{"name", "value", "secret"}]; secret values are masked everywhere.'
    )
    ports = models.JSONField(
        default=list, blank=True, help_text='Published ports: [{"host", "container", "protocol"}].'
    )
    publish_all = models.BooleanField(default=False)
    published_ports = models.JSONField(
        default=list,
        blank=True,
        help_text='What Docker published, as `docker port` shows it: [{"port": "80/tcp", "host_ip", "host_port"}].',
    )
    is_system = models.BooleanField(default=False, help_text="Protected: tenants can neither change nor remove it.")
    docker_id = models.CharField(max_length=64, blank=True, verbose_name="Docker container ID")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATING)
    # Docker's State, as the portal last read it: what `docker ps` says "Up 5 minutes" and "Exited (0) 3 minutes
    # ago" with.
    started_at = models.DateTimeField(null=True, blank=True, help_text="When Docker last started it.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it last stopped; empty if it never has.")
    exit_code = models.IntegerField(null=True, blank=True, help_text="How its main process ended when it last stopped.")
    labels = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ContainerQuerySet.as_manager()

    class Meta:
        ordering = ["cluster", "name"]
        verbose_name = "container"
        verbose_name_plural = "containers"
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "name"],
                condition=~models.Q(status=ContainerStatus.REMOVED),
                name="container_unique_live_name_per_cluster",
            ),
            models.CheckConstraint(
                condition=models.Q(is_system=True) | models.Q(tenant__isnull=False),
                name="container_tenant_unless_system",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def placed_node(self) -> Node:
        """The node the container was placed on. A node that leaves the swarm is deleted and leaves its
        containers without one: acting on such a container fails here, as it failed on `None` before."""
        assert self.node is not None, f"container {self.name} ({self.pk}) is on no node: its node left the swarm"
        return self.node

    @property
    def is_exposed(self) -> bool:
        """Published ports expose a container to the Internet and ServiceNet (the tutorial's warning)."""
        return bool(self.published_ports or self.ports or self.publish_all)

    @property
    def exposure(self) -> list[str]:
        """Each published port as NODE_ADDRESS:PORT -> CONTAINER_PORT, as the tutorial's `docker port` shows it."""
        address = self.node.address if self.node else "?"
        return [f"{address}:{p['host_port']} -> {p['port']}" for p in self.published_ports]


class Endpoint(models.Model):
    """A container's attachment to a network: its address, MAC and DNS aliases there."""

    network = models.ForeignKey("networks.Network", on_delete=models.CASCADE, related_name="endpoints")
    container = models.ForeignKey(Container, on_delete=models.CASCADE, related_name="endpoints")
    ipv4_address = models.GenericIPAddressField(protocol="IPv4", null=True, blank=True, verbose_name="IPv4 address")
    mac_address = models.CharField(max_length=17, blank=True, verbose_name="MAC address")
    endpoint_id = models.CharField(max_length=64, blank=True, verbose_name="Docker endpoint ID")
    aliases = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network", "container__name"]
        verbose_name = "endpoint"
        verbose_name_plural = "endpoints"
        constraints = [
            models.UniqueConstraint(fields=["network", "container"], name="endpoint_unique_network_container"),
        ]

    def __str__(self) -> str:
        return f"{self.container} on {self.network}"
