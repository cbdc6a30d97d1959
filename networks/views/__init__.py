"""The portal's pages for networks, containers, operations and clusters.

Views stay thin: they read through the tenant-scoped selectors, parse input with forms, call
services and render. A service's refusal is shown on the form that asked, with what was typed.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator

from networks.services.errors import USER_ERRORS

PAGE_SIZE = 25


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def wants_fragment(request, target: str) -> bool:
    """An htmx request aimed at one part of the page gets only that part."""
    return bool(request.htmx) and request.htmx.target == target


def attempt(request, action: Callable, success: str | Callable):
    """Run what a button asked for: a refusal becomes an error message (never a 500), else `success`.

    Returns the service's answer, or None when it refused.
    """
    try:
        result = action()
    except USER_ERRORS as error:
        messages.error(request, error.message)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result
