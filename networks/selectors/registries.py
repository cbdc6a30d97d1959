"""A team's registry logins, read without their sealed passwords."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from networks.models import RegistryLogin
from portal.models import Tenant


def registry_login_list(*, tenant: Tenant) -> QuerySet[RegistryLogin]:
    """The team's registry logins; the sealed password is not even read (only a worker opens it)."""
    return RegistryLogin.objects.filter(tenant=tenant).defer("password_sealed").order_by("registry")


def registry_login_get(*, tenant: Tenant, pk: int) -> RegistryLogin:
    return get_object_or_404(registry_login_list(tenant=tenant), pk=pk)
