"""One error shape for the whole API: {"error": {"code", "message", "field"}}.

Services raise sentences (`USER_ERRORS`); DRF raises its own exceptions (validation, parse,
authentication, permission, throttling, 404). Both end here, so a script reads every refusal the
same way, and the sentence is the one the UI shows.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from plumbing.errors import USER_ERRORS, http_status_of

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# DRF's "Authentication credentials were not provided." says neither what nor how.
NOT_AUTHENTICATED = "Sign in, or send an API token as `Authorization: Token <key>` (make one on the Tokens page)."

# DRF's default codes, named the way a script would match on them.
CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "parse_error",
    exceptions.Throttled: "throttled",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A short name scripts can match on, such as name_taken or pool_exhausted.")
    message = serializers.CharField(help_text="What went wrong and what to do, the same sentence the portal shows.")
    field = serializers.CharField(
        allow_null=True, help_text="The request field the error is about (dotted for nested ones), or null."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(code: str, message: str, *, status_code: int, field: str | None = None, headers=None) -> Response:
    return Response(error_body(code, message, field), status=status_code, headers=headers)


def _first_validation_error(detail, path: tuple = ()) -> tuple[str | None, str, str]:
    """The first (field, code, message) of DRF's nested validation detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = path if key in ("non_field_errors", "__all__") else (*path, str(key))
            return _first_validation_error(value, inner)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                if value:
                    return _first_validation_error(value, (*path, str(index)) if isinstance(value, dict) else path)
                continue
            return _first_validation_error(value, path)
    field = ".".join(path) or None
    return field, getattr(detail, "code", None) or "invalid", str(detail)


def _message_for(field: str | None, code: str, message: str) -> str:
    # DRF's field messages ("This field is required.") do not say which field; say it.
    if field and (message.startswith("This field") or code in ("required", "null", "blank")):
        return f"{field}: {message}"
    return message


def validation_error_body(detail) -> dict:
    """DRF's validation detail (a serializer's `errors`) in the one error shape: its first error."""
    field, error_code, message = _first_validation_error(detail)
    return error_body(error_code, _message_for(field, error_code, message), field)


def service_error_body(error) -> dict:
    """A service's refusal (one of `USER_ERRORS`) in the one error shape."""
    return error_body(error.code, error.message, error.field)


def exception_handler(exc, context) -> Response | None:
    if isinstance(exc, USER_ERRORS):
        set_rollback()
        status_code = http_status_of(exc)
        # a 503 is a worker or the cluster not answering in time: say when to try again
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status_code == 503 else None
        return Response(service_error_body(exc), status=status_code, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if exc.args and "matches the given query" not in str(exc) else None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer 500

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()

    if isinstance(exc, exceptions.ValidationError):
        return Response(validation_error_body(exc.detail), status=exc.status_code, headers=headers)
    code = next((name for cls, name in CODES.items() if isinstance(exc, cls)), None)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if isinstance(exc, exceptions.NotAuthenticated) and detail == exceptions.NotAuthenticated.default_detail:
        detail = NOT_AUTHENTICATED
    if code is None:
        code = getattr(exc.detail, "code", None) or exc.default_code
    elif getattr(exc.detail, "code", None) not in (None, exc.default_code):
        code = exc.detail.code  # a specific code given where the exception was raised
    return error_response(code, detail, status_code=exc.status_code, headers=headers)


@csrf_exempt  # it changes nothing; a CSRF refusal would answer in HTML
def not_found_view(request, *args, **kwargs):
    """Unknown URLs under /api/v1/ answer in the API's error shape, not with an HTML page."""
    return JsonResponse(
        error_body("not_found", f"There is no API endpoint at {request.path}. See /api/v1/docs/."),
        status=status.HTTP_404_NOT_FOUND,
    )
