"""`Authorization: Token <key>` for the REST API, with per-user tokens made on the Tokens page or in the admin."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from plumbing.errors import ServiceError

from .services import api_token_authenticate

KEYWORD = "Token"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A request with no Authorization header is left to the session; a bad or revoked token is a 401."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
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
