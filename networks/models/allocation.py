import ipaddress

from django.db import models


class SubnetAllocation(models.Model):
    """A block of a cluster's pool that is held: by a portal network, or by a network found on the cluster.

    Stored as integer bounds so the allocator can find its way with O(log n) index lookups.
    The row outlives its network's removal until the cluster confirms the network is gone.
    """

    class Kind(models.TextChoices):
        NETWORK = "network", "Portal network"
        EXTERNAL = "external", "External network"

    cluster = models.ForeignKey("networks.Cluster", on_delete=models.CASCADE, related_name="subnet_allocations")
    network = models.OneToOneField(
        "networks.Network", null=True, blank=True, on_delete=models.SET_NULL, related_name="allocation"
    )
    cidr = models.CharField(max_length=43, verbose_name="CIDR")
    first = models.BigIntegerField(help_text="First address of the block, as an integer.")
    last = models.BigIntegerField(help_text="Last address of the block, as an integer.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NETWORK)
    owner = models.CharField(max_length=200, help_text="Who holds the block, in words.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cluster", "first"]
        verbose_name = "subnet allocation"
        verbose_name_plural = "subnet allocations"
        constraints = [
            # Two blocks of one cluster never start at the same address; on PostgreSQL an exclusion
            # constraint (migration 0003) also refuses any overlap at all.
            models.UniqueConstraint(fields=["cluster", "first"], name="subnetallocation_unique_cluster_first"),
            models.CheckConstraint(
                condition=models.Q(first__lte=models.F("last")), name="subnetallocation_first_le_last"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cidr} ({self.owner})"

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)


class AddressAllocation(models.Model):
    """An IPv4 address inside a network, held by a container endpoint."""

    network = models.ForeignKey("networks.Network", on_delete=models.CASCADE, related_name="address_allocations")
    address = models.GenericIPAddressField(protocol="IPv4")
    owner = models.CharField(max_length=200, help_text="The container holding the address.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network", "address"]
        verbose_name = "address allocation"
        verbose_name_plural = "address allocations"
        constraints = [
            models.UniqueConstraint(fields=["network", "address"], name="addressallocation_unique_network_address"),
        ]

    def __str__(self) -> str:
        return f"{self.address} on {self.network} ({self.owner})"
