"""A request that meets a lost database connection is made again once on a fresh one, where that is
safe, and is otherwise answered 503 with Retry-After: a restart or a failover of PostgreSQL is a
wait for the user, never a 500.

A request that waited too long for a record another session holds (a lock: DATABASE_LOCK_TIMEOUT,
set for the web server) is answered 503 at once, saying that nothing was done: its transaction was
rolled back, and waiting as long again would only hold another thread.

Safe to make again: GET, HEAD and OPTIONS, and an API call sent with an Idempotency-Key (the API
stores its answer in the transaction that makes the change, so the second run finds the first's
answer or does the change once). Any other change may or may not have been committed when the
connection went, so it is answered 503 with a sentence saying so, in the API's error shape under
/api/ and as a short page elsewhere.

The fault is seen where Django turns it into a 500: a view's exception reaches `process_exception`;
one raised in a middleware is reported through `got_request_exception`.
"""

from __future__ import annotations

import html
import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse

from plumbing.api.errors import error_body
from plumbing.database_faults import is_database_fault, is_lock_wait_given_up, reconnect

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DATABASE_DOWN = (
    "The portal's database is not answering right now (it is restarting or failing over). "
    f"Try again in {RETRY_AFTER_SECONDS} seconds."
)
CHANGE_UNKNOWN_API = (
    "The portal lost its database connection while handling this request, so it may or may not have been done. "
    "Look before sending it again, or send it with an Idempotency-Key, which makes sending it again safe."
)
CHANGE_UNKNOWN_PAGE = (
    "The portal lost its database connection while handling this request, so it may or may not have been done. "
    f"In {RETRY_AFTER_SECONDS} seconds, look whether your change was made before making it again."
)
DATABASE_BUSY = (
    "Another change holds a record this request needs and did not let go in time, so nothing was done. "
    f"Try again in {RETRY_AFTER_SECONDS} seconds; if it keeps happening, an admin should look for a long "
    "transaction in PostgreSQL (docs/operations.md)."
)
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Try again in a moment · Overlay Portal</title></head>
<body><h1>Try again in a moment</h1><p>{message}</p><p><a href="">Reload</a></p></body></html>
"""


def _fits_in_memory(request) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is None or length <= limit


def safe_to_repeat(request) -> bool:
    if request.method in SAFE_METHODS:
        return True
    return bool(request.headers.get("Idempotency-Key", "").strip()) and _fits_in_memory(request)


def unavailable(request, *, change_unknown: bool) -> HttpResponse:
    """The 503 for a request that could not reach the database: JSON under /api/, a short page elsewhere."""
    unknown = CHANGE_UNKNOWN_API if request.path.startswith("/api/") else CHANGE_UNKNOWN_PAGE
    return _answer(request, "database_unavailable", unknown if change_unknown else DATABASE_DOWN)


def busy(request) -> HttpResponse:
    """The 503 for a request that gave up waiting for a lock: nothing was done."""
    return _answer(request, "database_busy", DATABASE_BUSY)


def _answer(request, code: str, message: str) -> HttpResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=503, headers=headers)
    return HttpResponse(PAGE.format(message=html.escape(message)), status=503, headers=headers)


class DatabaseRetryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        repeatable = safe_to_repeat(request)
        if repeatable and request.method not in SAFE_METHODS:
            request.body  # read and kept, so that the second run reads the same body  # noqa: B018
        response = self.get_response(request)
        fault = getattr(request, "database_fault", None)
        if fault is None:
            return response
        reconnect()
        if repeatable and not is_lock_wait_given_up(fault):
            logger.warning("%s %s met a lost database connection; made again: %s", request.method, request.path, fault)
            request.database_fault = None
            response = self.get_response(request)
            fault = request.database_fault
            if fault is None:
                return response
            reconnect()
        if is_lock_wait_given_up(fault):
            logger.warning("%s %s answered 503, a lock was held too long: %s", request.method, request.path, fault)
            return busy(request)
        logger.warning("%s %s answered 503, the database is not answering: %s", request.method, request.path, fault)
        return unavailable(request, change_unknown=not repeatable)

    def process_exception(self, request, exception):
        if is_database_fault(exception):
            request.database_fault = exception
            if is_lock_wait_given_up(exception):
                return busy(request)
            return unavailable(request, change_unknown=not safe_to_repeat(request))
        return None


@receiver(got_request_exception)
def note_database_fault(sender, request=None, **kwargs) -> None:
    """A fault raised outside the view (in a middleware): Django answers it with a 500 that is replaced."""
    error = sys.exc_info()[1]
    if request is not None and error is not None and is_database_fault(error):
        request.database_fault = error
