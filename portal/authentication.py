"""`Authorization: Token <key>` for the REST API, with per-user tokens made on the Tokens page or in the admin.
`Bearer <key>` is taken too, as many HTTP clients send an API key by default; any other scheme (a proxy's
Basic, say) is left to the session.

Guessing keys is stopped per client address: after API_TOKEN_FAILURE_LIMIT wrong tokens within
API_TOKEN_FAILURE_WINDOW seconds, every token from that address is refused with a 429 (without
being looked at) until the oldest failures leave the window. Other addresses are not affected.

Failures are counted in the cache, which the web processes share (CACHE_URL, portal/webserver.py),
by atomic increments: wrong tokens sent at once from many connections all count, and the one past
the limit is already answered 429. An expired token is a known key, not a guess: it is answered
401 with the day it expired and not counted. A read-only token that asks to change something is
answered 403 (`read_only_token`), whichever view it reached.

A team token authenticates as its team (`portal.team_token_user.TeamTokenUser`), a personal one as its user.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from plumbing.api.throttling import COUNTING_DOWN, cache_count
from plumbing.errors import ServiceError

from . import identity_cache
from .addresses import client_address
from .team_token_user import TeamTokenUser
from .tokens import api_token_authenticate

KEYWORD = "Token"
KEYWORDS = (b"token", b"bearer")  # matched without regard to case, as RFC 9110 has schemes
# Refusals of keys that exist: they are not guesses, and do not count towards the limit.
KNOWN_TOKEN_REFUSALS = ("expired_token", "read_only_token")
# The window is counted in this many slices (a minute each for the default 15 minutes): a failure
# leaves the count when its slice leaves the window.
WINDOW_SLICES = 15

logger = logging.getLogger(__name__)


class FailedTokenThrottle:
    """The wrong tokens one address sent within the window, one cache counter per slice of it."""

    def __init__(self, request):
        self.limit = settings.API_TOKEN_FAILURE_LIMIT
        self.window = settings.API_TOKEN_FAILURE_WINDOW
        self.slice_seconds = max(math.ceil(self.window / WINDOW_SLICES), 1)
        self.slices = math.ceil(self.window / self.slice_seconds)
        self.now = time.time()
        self.current = int(self.now // self.slice_seconds)
        self.prefix = f"failed_token:{client_address(request)}"
        self.counts: dict[int, int] = {}
        self.generation: int | None = None  # None: the identities are read from the database

    def key(self, slice_number: int) -> str:
        return f"{self.prefix}:{slice_number}"

    def allow(self) -> bool:
        """Whether a token from this address may be looked at (a cache that does not answer allows it)."""
        keys = {number: self.key(number) for number in range(self.current - self.slices + 1, self.current + 1)}
        also = [identity_cache.GENERATION_KEY] if identity_cache.enabled() else []
        try:  # one round trip: the counts, and the auth generation the identities in memory need
            found = cache.get_many([*keys.values(), *also])
        except COUNTING_DOWN as error:
            logger.warning("Wrong API tokens are not counted: the cache does not answer (%s).", error)
            return True
        self.generation = identity_cache.generation_of(found) if also else None
        self.counts = {number: int(found.get(key) or 0) for number, key in keys.items()}
        return sum(self.counts.values()) < self.limit

    def record_failure(self) -> bool:
        """Count one wrong token; whether the address is now over its limit."""
        try:
            now_in_slice = cache_count(cache, self.key(self.current), self.window + self.slice_seconds)
        except COUNTING_DOWN as error:
            logger.warning("A wrong API token was not counted: the cache does not answer (%s).", error)
            return False
        self.counts[self.current] = now_in_slice
        return sum(self.counts.values()) > self.limit

    def wait(self) -> int:
        """Seconds until the oldest slices have left the window and the count is below the limit again."""
        excess = sum(self.counts.values()) - self.limit + 1
        for number in sorted(self.counts):
            excess -= self.counts[number]
            if excess <= 0:
                return max(math.ceil((number + self.slices) * self.slice_seconds - self.now), 1)
        return self.window

    def refuse(self) -> exceptions.Throttled:
        seconds = self.wait()
        refusal = exceptions.Throttled(
            detail=f"Too many wrong API tokens came from your address; tokens from it are refused for "
            f"{seconds} seconds. Check the key (make a new one on the Tokens page if it is lost), then try again.",
            code="too_many_bad_tokens",
        )
        refusal.wait = seconds  # set after: DRF would append its own "Expected available in" sentence
        return refusal


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A request with no Authorization header is left to the session; a bad, revoked or expired token is
    a 401; a read-only token asking to change something a 403."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        limiter = FailedTokenThrottle(request)
        if not limiter.allow():
            raise limiter.refuse()
        try:
            return self._authenticate_token(request, parts, limiter.generation)
        except exceptions.AuthenticationFailed as refusal:
            if getattr(refusal.detail, "code", None) in KNOWN_TOKEN_REFUSALS:
                raise
            if limiter.record_failure():
                raise limiter.refuse() from None
            raise

    def _authenticate_token(self, request, parts: list[bytes], generation: int | None):
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Token <key>`, with one space and no quotes.", code="invalid_token"
            )
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The API token is not valid.", code="invalid_token") from None
        try:
            token = api_token_authenticate(
                key=key, method=request.method, address=client_address(request), generation=generation
            )
        except ServiceError as error:
            if error.http_status == 403:
                raise exceptions.PermissionDenied(error.message, code=error.code) from None
            raise exceptions.AuthenticationFailed(error.message, code=error.code) from None
        return (TeamTokenUser(token) if token.is_team_token else token.user), token

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
            "description": "`Token <key>` (or `Bearer <key>`): create a key on the portal's Tokens page, in the admin, "
            "or with `manage.py api_token_create`.",
        }
