"""Reads of tenant membership and API tokens: scoped like every other read (a foreign id is a 404)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import ApiToken, AuditEntry, Membership, Tenant


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user", "tenant")


def membership_get(*, tenant: Tenant, pk: int) -> Membership:
    return get_object_or_404(membership_list(tenant=tenant), pk=pk)


def api_token_list(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get(*, user, pk: int) -> ApiToken:
    return get_object_or_404(api_token_list(user=user), pk=pk)


def api_token_manageable(*, user) -> QuerySet[ApiToken]:
    """The tokens a person sees and may revoke: their own, and the team tokens of every team they own."""
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("tenant_id")
    return ApiToken.objects.filter(Q(user=user) | Q(tenant__in=owned)).select_related("tenant", "created_by")


def api_token_manageable_get(*, user, pk: int) -> ApiToken:
    return get_object_or_404(api_token_manageable(user=user), pk=pk)


def api_tokens_expiring(*, user) -> QuerySet[ApiToken]:
    """The person's live tokens, and their teams', that stop working within API_TOKEN_WARN_DAYS."""
    now = timezone.now()
    return (
        api_token_manageable(user=user)
        .filter(revoked__isnull=True, expires__gt=now, expires__lte=now + timedelta(days=settings.API_TOKEN_WARN_DAYS))
        .order_by("expires")
    )


def api_token_teams(*, user) -> QuerySet[Tenant]:
    """The teams whose team tokens a person may make: those they own."""
    return Tenant.objects.filter(memberships__user=user, memberships__role=Membership.Role.OWNER).order_by("name")


def user_tenant_get(*, user, slug: str) -> Tenant:
    """One of the person's teams by slug; a team they are not in is a 404, like a missing one."""
    return get_object_or_404(Tenant.objects.filter(memberships__user=user), slug=slug)


def audit_entry_list(*, tenant: Tenant) -> QuerySet[AuditEntry]:
    """The tenant's audit log, newest first; other tenants' and staff-only entries are never in it."""
    return AuditEntry.objects.filter(tenant=tenant).select_related("tenant")


def audit_entry_get(*, tenant: Tenant, pk: int) -> AuditEntry:
    return get_object_or_404(audit_entry_list(tenant=tenant), pk=pk)


def tenant_list() -> QuerySet[Tenant]:
    """Every team, by name: for staff, who choose which team uses a cluster first."""
    return Tenant.objects.order_by("name")


def owner_names(*, tenant: Tenant) -> list[str]:
    """The user names of the tenant's owners: whom to ask to be let in."""
    return sorted(
        Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER).values_list("user__username", flat=True)
    )
