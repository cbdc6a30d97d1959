"""Reads of tenant membership and API tokens: scoped like every other read (a foreign id is a 404)."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import ApiToken, AuditEntry, Membership, Tenant


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user", "tenant")


def membership_get(*, tenant: Tenant, pk: int) -> Membership:
    return get_object_or_404(membership_list(tenant=tenant), pk=pk)


def api_token_list(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get(*, user, pk: int) -> ApiToken:
    return get_object_or_404(api_token_list(user=user), pk=pk)


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
