import json
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from .identity_cache import IdentityQuerySet


class Tenant(models.Model):
    """A team. Every cluster, network and container belongs to exactly one tenant."""

    # Writes that send no signal still reach the identities the API remembers (portal/identity_cache.py).
    objects = IdentityQuerySet.as_manager()

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


class MembershipRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class MembershipSource(models.TextChoices):
    MANUAL = "manual", "Added by hand"
    PROVIDER = "provider", "From the identity provider"


class Membership(models.Model):
    """A user's role in a tenant: owners manage members and policies, members change things, viewers read.

    `source` says who keeps it: an owner or staff (manual), or the sign-in, which brings memberships from
    the provider's groups in line with them at each single sign-on and never touches manual ones."""

    Role = MembershipRole
    Source = MembershipSource

    # Writes that send no signal still reach the identities the API remembers (portal/identity_cache.py).
    objects = IdentityQuerySet.as_manager()

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    source = models.CharField(
        max_length=16,
        choices=Source.choices,
        default=Source.MANUAL,
        help_text="Provider memberships follow the person's groups at each single sign-on.",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__name", "user__username"]
        verbose_name = "membership"
        verbose_name_plural = "memberships"
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant"),
            models.CheckConstraint(condition=models.Q(role__in=MembershipRole.values), name="membership_role_valid"),
            models.CheckConstraint(
                condition=models.Q(source__in=MembershipSource.values), name="membership_source_valid"
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


class TeamTokenRole(models.TextChoices):
    """What a team token may do in its team: what a membership of that role may (never an owner's rights)."""

    MEMBER = MembershipRole.MEMBER.value, MembershipRole.MEMBER.label
    VIEWER = MembershipRole.VIEWER.value, MembershipRole.VIEWER.label


class ApiToken(models.Model):
    """A key for the REST API. Only its SHA-256 is stored: the key is shown once, when it is made.

    A personal token acts as its user. A team token (`tenant` and `role` set, no user) belongs to the
    team: it acts as the team with its role, in that team only, and outlives the person who made it
    (`created_by`). Every token expires, unless API_TOKEN_MAX_DAYS is 0 (`expires` empty: never).
    """

    # Writes that send no signal still reach the identities the API remembers (portal/identity_cache.py).
    objects = IdentityQuerySet.as_manager()

    Role = TeamTokenRole

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="Whom a personal token acts as; empty for a team token.",
    )
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name="team",
        help_text="The team a team token belongs to and acts in; empty for a personal token.",
    )
    role = models.CharField(
        max_length=16, choices=TeamTokenRole.choices, blank=True, help_text="A team token's role in its team."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who made it; empty when made on the command line, or after that account is gone.",
    )
    name = models.CharField(max_length=100, help_text="What the token is for, such as cli or ci-deploy.")
    prefix = models.CharField(max_length=16, help_text="The key's first characters, to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name="key hash (SHA-256)")
    read_only = models.BooleanField(default=False, help_text="When set, the token may only read (GET, HEAD, OPTIONS).")
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When it stops working; empty: never (API_TOKEN_MAX_DAYS=0)."
    )
    last_used = models.DateTimeField(null=True, blank=True)
    last_used_address = models.CharField(max_length=64, blank=True, help_text="The client's address at its last use.")
    revoked = models.DateTimeField(null=True, blank=True, help_text="When set, the token no longer authenticates.")

    class Meta:
        ordering = ["user__username", "-created"]
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, tenant__isnull=True, role="")
                    | models.Q(user__isnull=True, tenant__isnull=False, role__in=TeamTokenRole.values)
                ),
                name="apitoken_personal_or_team",
                violation_error_message="A token belongs to a user, or to a team with a role (member or viewer).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_team_token(self) -> bool:
        return self.tenant_id is not None

    def is_expired(self, now=None) -> bool:
        return self.expires is not None and self.expires <= (now or timezone.now())

    @property
    def is_active(self) -> bool:
        return self.revoked is None and not self.is_expired()

    @property
    def expires_soon(self) -> bool:
        """Still working, but not for more than API_TOKEN_WARN_DAYS: the Tokens page warns."""
        if self.revoked is not None or self.expires is None or self.is_expired():
            return False
        return self.expires - timezone.now() <= timedelta(days=settings.API_TOKEN_WARN_DAYS)

    @property
    def scope(self) -> str:
        """In words: read-only or read-write, and for a team token its team and role."""
        access = "read-only" if self.read_only else "read-write"
        if self.is_team_token:
            return f"{self.tenant} as {self.get_role_display().lower()}, {access}"
        return access


class IdempotencyRecord(models.Model):
    """The answer to a create sent with an `Idempotency-Key`, replayed when a script retries it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token = models.ForeignKey(
        ApiToken,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The team token that sent it, when no user did.",
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path, tenant and body.")
    status_code = models.PositiveSmallIntegerField()
    body = models.TextField(help_text="The answer's JSON as it was sent: a replay gives its keys in the same order.")
    location = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "idempotency record"
        verbose_name_plural = "idempotency records"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotencyrecord_unique_user_key"),
            models.UniqueConstraint(fields=["token", "key"], name="idempotencyrecord_unique_token_key"),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, token__isnull=True)
                | models.Q(user__isnull=True, token__isnull=False),
                name="idempotencyrecord_user_or_token",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.token} {self.key}"

    def answer(self) -> dict:
        """The stored answer's body, its keys in the order they were sent."""
        return json.loads(self.body)


class AuditEntry(models.Model):
    """Who changed what, for which tenant, when and from where. Entries are written once and never changed.

    The names are copied as words next to the foreign keys, so an entry still says who and which
    team after the user, token or tenant is gone. Details never hold secret values.
    """

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    actor = models.CharField(
        max_length=150, help_text='Who, in words: a username, or "manage.py" for the command line.'
    )
    token_name = models.CharField(max_length=100, blank=True, help_text="The API token used, if any.")
    token_prefix = models.CharField(max_length=16, blank=True)
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
        help_text="Empty for staff and system changes that belong to no team.",
    )
    tenant_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=64, help_text="A dotted verb such as network.create or membership.add.")
    object_type = models.CharField(max_length=100, blank=True, help_text="The object's model, as app.model.")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True, verbose_name="object")
    details = models.JSONField(default=dict, blank=True, help_text="What was asked for; never secret values.")
    address = models.CharField(max_length=64, blank=True, help_text="The client's address; empty off the web.")

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["tenant", "-created"], name="auditentry_tenant_created")]
        default_permissions = ("view",)  # nobody, staff included, may add, change or delete entries

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_repr}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Audit entries are written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are never deleted.")


class SsoGroupMapping(models.Model):
    """A group the identity provider names (a value of the groups claim) gives a role in a team."""

    group = models.CharField(max_length=255, help_text="A value of the groups claim, exactly as the provider sends it.")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sso_mappings")
    role = models.CharField(max_length=16, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "tenant__name"]
        verbose_name = "group mapping"
        verbose_name_plural = "group mappings"
        constraints = [
            models.UniqueConstraint(fields=["group", "tenant"], name="ssogroupmapping_unique_group_tenant"),
            models.CheckConstraint(
                condition=models.Q(role__in=MembershipRole.values), name="ssogroupmapping_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.tenant} ({self.get_role_display()})"


class SsoIdentity(models.Model):
    """Who a user is at an identity provider: its issuer and the subject it names them by.

    Single sign-on finds the user by this pair, never by a name, so an account made by hand is never
    taken over by a provider person who happens to share its username or e-mail address."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)
    last_sign_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issuer", "subject"]
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="ssoidentity_unique_issuer_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
