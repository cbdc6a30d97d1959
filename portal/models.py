from django.conf import settings
from django.db import models


class Tenant(models.Model):
    """A team. Every cluster, network and container belongs to exactly one tenant."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    allow_published_ports = models.BooleanField(
        default=True,
        help_text="When off, containers of this tenant may not publish ports to the Internet and ServiceNet.",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "tenant"
        verbose_name_plural = "tenants"

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a tenant: owners manage members and policies, members change things, viewers read."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__name", "user__username"]
        verbose_name = "membership"
        verbose_name_plural = "memberships"
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "member", "viewer"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.get_role_display()})"

    @property
    def can_change(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.MEMBER)

    @property
    def can_manage(self) -> bool:
        return self.role == self.Role.OWNER
