from django.db import models


class RegistryLogin(models.Model):
    """A team's login to a private image registry, used when a run pulls an image from it.

    The password (or token) is sealed with PORTAL_SECRETS_KEYS and never shown again; only a worker
    opens it, to hand it to Docker for one pull.
    """

    tenant = models.ForeignKey("portal.Tenant", on_delete=models.CASCADE, related_name="registry_logins")
    registry = models.CharField(
        max_length=255, help_text="The registry's host[:port], as images name it, e.g. 192.168.250.1:5001."
    )
    username = models.CharField(max_length=255)
    password_sealed = models.TextField(editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant", "registry"]
        verbose_name = "registry login"
        verbose_name_plural = "registry logins"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "registry"], name="registrylogin_unique_tenant_registry"),
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.registry}"
