"""The portal's pages for networks, containers, operations and clusters.

Views stay thin: they read through the tenant-scoped selectors, parse input with forms, call
services and render. A service's refusal is shown on the form that asked, with what was typed.
"""

import hashlib
from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from networks.services.errors import USER_ERRORS

PAGE_SIZE = 25


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def wants_fragment(request, target: str) -> bool:
    """An htmx request aimed at one part of the page gets only that part."""
    return bool(request.htmx) and request.htmx.target == target


def render_list(request, *, page_template: str, results_template: str, context: dict) -> HttpResponse:
    """A list page, or only its #results for an htmx request (filters, pages, live refresh).

    While `context["busy"]` holds (the worker is changing a row on the page) the results ask for
    themselves again every 2 s, sending the version they show; an answer that would change nothing
    is a 204, so htmx swaps nothing and screen readers announce nothing.
    """
    results = render_to_string(results_template, context, request)
    version = hashlib.blake2s(results.encode(), digest_size=8).hexdigest()
    fragment = wants_fragment(request, "results")
    if fragment and request.headers.get("X-Results-Version") == version:
        return HttpResponse(status=204)
    live = render_to_string("networks/_live_refresh.html", {"busy": context["busy"], "version": version}, request)
    results = mark_safe(live + results)  # both rendered by templates with autoescaping on
    if fragment:
        return HttpResponse(results)
    return render(request, page_template, {**context, "results": results})


SEEN_HEADER = "X-Seen-Version"


def watch_version(obj) -> str:
    """What a detail page shows of a network or container, as a short hash.

    A settled page's status line keeps asking every few seconds with the version it shows, so a
    change made outside the portal (the events follower records it) appears without a reload.
    """
    endpoints = sorted(obj.endpoints.values_list("pk", "ipv4_address"))
    raw = f"{obj.status}|{obj.updated.isoformat()}|{endpoints}"
    return hashlib.blake2s(raw.encode(), digest_size=8).hexdigest()


def render_status(request, template: str, context: dict, *, settled_event: str) -> HttpResponse:
    """The polled status line of a detail page: every 1 s while work runs, every 5 s once settled.

    Settled and unchanged since the last look: a 204, so htmx swaps nothing. Settled with news:
    the line and an `HX-Trigger` that reloads the parts of the page that depend on it.
    """
    version = context["version"]
    if context["settled"] and request.headers.get(SEEN_HEADER) == version:
        return HttpResponse(status=204)
    response = render(request, template, context)
    if context["settled"]:
        response["HX-Trigger"] = settled_event
    return response


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
