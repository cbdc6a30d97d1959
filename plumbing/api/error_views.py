"""Django's own error answers (handler400, 403, 404, 500 in portal/urls.py), in the API's shape under /api/.

DRF turns what a view raises into `{"error": …}` (errors.py); these are the answers given outside it:
a bug that escaped a view (500), a request refused before any view ran (a Host the portal does not
serve, a body past DATA_UPLOAD_MAX_MEMORY_SIZE: 413, too many fields), a path no URL matches. A
script reads them the same way as every other refusal; pages keep Django's pages (templates/).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from rest_framework import status

from .errors import error_body, not_found_view

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _answer(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def _size(octets: int) -> str:
    return f"{octets / 1024 / 1024:.1f} MB" if octets >= 1024 * 1024 else f"{octets} bytes"


def refusal_before_the_view(exception) -> tuple[str, str, int]:
    """The code, sentence and status for a request Django refused before it reached a view."""
    if isinstance(exception, RequestDataTooBig):
        limit = _size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return (
            "request_too_large",
            f"The request body is larger than the portal accepts ({limit}). Send a smaller body.",
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return (
            "too_many_fields",
            f"The request has more fields than the portal accepts ({settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}). "
            "Send fewer fields.",
            status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exception, DisallowedHost):
        return (
            "bad_host",
            "The Host header names a host this portal is not served on. Send the request to the portal's own address.",
            status.HTTP_400_BAD_REQUEST,
        )
    return (
        "bad_request",
        "The request was refused as malformed. Check its headers and body against the API's schema at /api/v1/docs/.",
        status.HTTP_400_BAD_REQUEST,
    )


@requires_csrf_token
def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if not is_api(request):
        return defaults.bad_request(request, exception, template_name)
    return _answer(*refusal_before_the_view(exception))


@requires_csrf_token
def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if not is_api(request):
        return defaults.permission_denied(request, exception, template_name)
    return _answer("permission_denied", "You do not have permission to do this.", status.HTTP_403_FORBIDDEN)


@requires_csrf_token
def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if not is_api(request):
        return defaults.page_not_found(request, exception, template_name)
    return not_found_view(request)


@requires_csrf_token
def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if not is_api(request):
        return defaults.server_error(request, template_name)
    return _answer(
        "internal_error",
        "The portal failed to answer this request; the error is logged for its operators. Try again, and tell "
        "them if it keeps failing.",
        status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
