"""`Authorization: Token <key>` for the REST API, with per-user tokens made on the Tokens page or in the admin.

Guessing keys is stopped per client address: after API_TOKEN_FAILURE_LIMIT wrong tokens within
API_TOKEN_FAILURE_WINDOW seconds, every token from that address is refused with a 429 (without
being looked at) until the oldest failure leaves the window. Other addresses are not affected.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.throttling import SimpleRateThrottle

from plumbing.errors import ServiceError

from .addresses import client_address
from .services import api_token_authenticate

KEYWORD = "Token"


class FailedTokenThrottle(SimpleRateThrottle):
    """DRF's throttle history, counting only the wrong tokens an address sent."""

    scope = "failed_token"

    def get_rate(self):
        return f"{settings.API_TOKEN_FAILURE_LIMIT}/s"

    def parse_rate(self, rate):
        return settings.API_TOKEN_FAILURE_LIMIT, settings.API_TOKEN_FAILURE_WINDOW

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}

    def throttle_success(self):
        return True  # asking is free; record_failure() counts

    def record_failure(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)

    def wait(self) -> float:
        return max(self.duration - (self.now - self.history[-1]), 1) if self.history else self.duration

    def refuse(self) -> exceptions.Throttled:
        seconds = int(self.wait() + 0.999)
        refusal = exceptions.Throttled(
            detail=f"Too many wrong API tokens came from your address; tokens from it are refused for "
            f"{seconds} seconds. Check the key (make a new one on the Tokens page if it is lost), then try again.",
            code="too_many_bad_tokens",
        )
        refusal.wait = seconds  # set after: DRF would append its own "Expected available in" sentence
        return refusal


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A request with no Authorization header is left to the session; a bad or revoked token is a 401."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        limiter = FailedTokenThrottle()
        if not limiter.allow_request(request, None):
            raise limiter.refuse()
        try:
            return self._authenticate_token(parts)
        except exceptions.AuthenticationFailed:
            limiter.record_failure()
            raise

    def _authenticate_token(self, parts: list[bytes]):
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Token <key>`, with one space and no quotes.", code="invalid_token"
            )
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The API token is not valid.", code="invalid_token") from None
        try:
            token = api_token_authenticate(key=key)
        except ServiceError as error:
            raise exceptions.AuthenticationFailed(error.message, code=error.code) from None
        return token.user, token

    def authenticate_header(self, request):
        return KEYWORD


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: create a key on the portal's Tokens page, in the admin, "
            "or with `manage.py api_token_create`.",
        }
