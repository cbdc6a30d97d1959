"""List filters every API list shares: the tenant handed to the filtersets, and strict ordering (by the
filterset's own `sorting` where it has one: the columns its page sorts by, natural order for names)."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters

from plumbing.errors import ServiceError


class TenantFilterBackend(DjangoFilterBackend):
    """The shared filtersets take the tenant, so a filter can only name the tenant's own objects."""

    def get_filterset_kwargs(self, request, queryset, view):
        return {**super().get_filterset_kwargs(request, queryset, view), "tenant": getattr(request, "tenant", None)}


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` naming a field a list cannot be ordered by is a 400 that names the ones it can.

    A view whose filterset has a `sorting` (plumbing.sorting.Sorting) is sorted by that filterset, as
    its page is: here its terms are only checked. Other views list `ordering_fields` and `ordering`.
    """

    @staticmethod
    def sorting_of(view):
        return getattr(getattr(view, "filterset_class", None), "sorting", None)

    def get_valid_fields(self, queryset, view, context=None):
        sorting = self.sorting_of(view)
        if sorting is not None:
            return [(key, key) for key in sorting.keys]
        return super().get_valid_fields(queryset, view, context or {})

    def filter_queryset(self, request, queryset, view):
        if self.sorting_of(view) is None:
            return super().filter_queryset(request, queryset, view)
        self.get_ordering(request, queryset, view)  # refuses unknown terms; the filterset has sorted
        return queryset

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
