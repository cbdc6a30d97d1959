"""List filters every API list shares: the tenant handed to the filtersets, and strict ordering."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters

from plumbing.errors import ServiceError


class TenantFilterBackend(DjangoFilterBackend):
    """The shared filtersets take the tenant, so a filter can only name the tenant's own objects."""

    def get_filterset_kwargs(self, request, queryset, view):
        return {**super().get_filterset_kwargs(request, queryset, view), "tenant": getattr(request, "tenant", None)}


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` naming a field a list cannot be ordered by is a 400 that names the ones it can."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        refused = [term for term in fields if term and term not in valid]
        if refused:
            names = ", ".join(name for name, _ in self.get_valid_fields(queryset, view, {"request": request}))
            raise ServiceError(
                "bad_ordering",
                f"This list cannot be ordered by {', '.join(refused)}. "
                f"Order by one of {names}; a leading - reverses the order.",
                field="ordering",
            )
        return valid
