"""The portal's pages for networks, containers, operations and clusters.

Views stay thin: they read through the tenant-scoped selectors, parse input with forms, call
services and render. A service's refusal is shown on the form that asked, with what was typed.
"""

import hashlib
import re
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from plumbing.errors import USER_ERRORS

PAGE_SIZE = 25


class NumberedPage(Page):
    @property
    def numbers(self) -> list:
        """The page numbers to link to: the first and the last always, two either side of this one,
        the rest elided (Paginator.ELLIPSIS)."""
        return list(self.paginator.get_elided_page_range(self.number, on_each_side=2, on_ends=1))


class NumberedPaginator(Paginator):
    def _get_page(self, *args, **kwargs):  # Django's hook for a Page subclass
        return NumberedPage(*args, **kwargs)


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """The page `?page=` asks for (the last one for a number past it), with its `numbers`."""
    return NumberedPaginator(queryset, per_page).get_page(request.GET.get("page"))


def wants_fragment(request, target: str) -> bool:
    """An htmx request aimed at one part of the page gets only that part."""
    return bool(request.htmx) and request.htmx.target == target


SEEN_HEADER = "X-Seen-Version"
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def render_live(
    request, *, page_template: str, part_template: str, context: dict, target: str = "live", busy: bool = False
) -> HttpResponse:
    """A page with a part that keeps itself current (a list's results, a picture of the cluster).

    The part asks for itself again, every 2 s while `busy` (the worker is changing what it shows)
    and every 10 s otherwise, so changes made elsewhere (another user, the docker CLI, heard by the
    events follower) appear without a reload. It sends the version it shows; an answer that would
    change nothing is a 204, so htmx swaps nothing and screen readers announce nothing. The page
    template puts `{{ live }}` inside the element with id `target`; filters and pages aimed at that
    element get the part alone.
    """
    part = render_to_string(part_template, context, request)
    # A form's CSRF token is masked afresh on every render: it is not news.
    version = hashlib.blake2s(CSRF_INPUT.sub("", part).encode(), digest_size=8).hexdigest()
    fragment = wants_fragment(request, target)
    if fragment and request.headers.get(SEEN_HEADER) == version:
        return HttpResponse(status=204)
    watcher = render_to_string(
        "networks/_live_refresh.html", {"busy": busy, "version": version, "target": target}, request
    )
    part = mark_safe(watcher + part)  # both rendered by templates with autoescaping on
    if fragment:
        return HttpResponse(part)
    return render(request, page_template, {**context, "live": part})


def watch_version(obj, *shown) -> str:
    """What a detail page's status line shows of a network or container (and `shown`: the progress of
    its unfinished work, a failure), as a short hash: the version a long poll waits to change."""
    endpoints = sorted(obj.endpoints.values_list("pk", "ipv4_address"))
    raw = f"{obj.status}|{obj.updated.isoformat()}|{endpoints}|{shown}"
    return hashlib.blake2s(raw.encode(), digest_size=8).hexdigest()


# A long poll is held at most this long, then answered "unchanged" and asked again at once.
LONG_POLL_SECONDS = 20.0
ASK_AGAIN_EVENT = "live-again"


def hold_until_changed(request, context_of: Callable[[], dict], wait: Callable) -> dict | None:
    """A long poll: the part sends the version it shows (X-Seen-Version), and while what it would show
    now (`context_of()`, with its "version") has that version, the request is held.

    `wait(changed, seconds)` blocks until `changed()` holds (True) or the time runs out (False): the
    caller's, which knows what to listen to (networks.services.notices). Returns the context to show,
    or None when nothing changed within LONG_POLL_SECONDS.
    """
    seen = request.headers.get(SEEN_HEADER)
    if not seen:
        return context_of()
    latest = {}

    def changed() -> bool:
        try:
            latest["context"] = context_of()
        except ObjectDoesNotExist:  # gone while the page was open (a cluster deregistered): a 404
            raise Http404("It no longer exists.") from None
        return latest["context"]["version"] != seen

    return latest["context"] if wait(changed, LONG_POLL_SECONDS) else None


def unchanged() -> HttpResponse:
    """The answer to a long poll that saw no change: a 204 (htmx swaps nothing, screen readers announce
    nothing) whose HX-Trigger has the part ask again at once (`hx-trigger="load, live-again"`)."""
    response = HttpResponse(status=204)
    response["HX-Trigger"] = ASK_AGAIN_EVENT
    return response


def render_status(
    request, template: str, context_of: Callable[[], dict], *, wait: Callable, settled_event: str
) -> HttpResponse:
    """The status line of a detail page, long-polled (see hold_until_changed): it answers once what it
    shows changes, so the page shows an operation's end the moment the worker records it.

    Settled with news: the line and an `HX-Trigger` that reloads the parts of the page that depend on it.
    """
    context = hold_until_changed(request, context_of, wait)
    if context is None:
        return unchanged()
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
