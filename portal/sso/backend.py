"""mozilla-django-oidc's backend with the portal's parts: the provider's endpoints from its discovery
document, every call bounded by OIDC_TIMEOUT, the ID token verified by portal/sso/tokens.py, the
person's claims taken from that verified token, and the user found and kept by `sso_sign_in`.

Only the callback view (portal/sso/views.py) signs in with it; a password login passes it by.
"""

from __future__ import annotations

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils.text import capfirst
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from ..actors import Actor
from . import provider
from .services import SignIn, sso_sign_in
from .tokens import InvalidIdToken, UnknownSigningKey, verify_id_token


class SsoBackend(OIDCAuthenticationBackend):
    def __init__(self, *args, **kwargs):
        # The library reads fixed endpoints here; the portal asks the discovery document when it signs in.
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.UserModel = get_user_model()
        self.sign_in: SignIn | None = None
        self.id_token_claims: dict = {}

    def authenticate(self, request, sso_nonce=None, sso_code_verifier=None, **kwargs):
        """Only for the callback view (which passes `sso_nonce`): a password login gets None here."""
        if request is None or sso_nonce is None or not settings.OIDC_ENABLED:
            return None
        self.OIDC_OP_TOKEN_ENDPOINT = provider.metadata()["token_endpoint"]
        return super().authenticate(request, nonce=sso_nonce, code_verifier=sso_code_verifier)

    def get_token(self, payload):
        try:
            response = requests.post(self.OIDC_OP_TOKEN_ENDPOINT, data=payload, timeout=settings.OIDC_TIMEOUT)
        except requests.Timeout as error:
            raise provider.provider_unavailable(
                f"its token endpoint took longer than {settings.OIDC_TIMEOUT:g} s"
            ) from error
        except requests.ConnectionError as error:
            raise provider.provider_unavailable(f"nothing answers at {self.OIDC_OP_TOKEN_ENDPOINT}") from error
        if response.status_code in (400, 401):
            # invalid_grant: the code was used already (a replayed callback) or has expired.
            raise InvalidIdToken(
                f"{capfirst(settings.OIDC_LABEL)} refused to finish this sign-in (the link was already used or is too old)."
            )
        if response.status_code != 200:
            raise provider.provider_unavailable(f"its token endpoint answered {response.status_code}")
        try:
            return response.json()
        except ValueError as error:
            raise provider.provider_unavailable("its token endpoint did not answer JSON") from error

    def verify_token(self, token, **kwargs):
        def verify(keys: dict) -> dict:
            return verify_id_token(
                token,
                keys=keys,
                issuer=provider.metadata()["issuer"],  # as the provider writes it (a trailing slash or not)
                audience=self.OIDC_RP_CLIENT_ID,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                nonce=kwargs.get("nonce"),
            )

        try:
            claims = verify(provider.signing_keys())
        except UnknownSigningKey:  # the provider may have rotated its keys since they were kept
            claims = verify(provider.signing_keys(refresh=True))
        self.id_token_claims = claims
        return claims

    def store_tokens(self, access_token, id_token):
        # Kept for the end-session hint at sign-out; a huge one (thousands of groups) is not worth its room.
        if id_token and len(id_token) <= 16_000:
            self.request.session["oidc_id_token"] = id_token

    def get_userinfo(self, access_token, id_token, payload):
        """The claims of the verified ID token: signed by the provider, unlike a userinfo answer."""
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        self.sign_in = sso_sign_in(actor=Actor.of(self.request), issuer=settings.OIDC_ISSUER, claims=payload)
        return self.sign_in.user

    def get_user(self, user_id):
        # The library's get_user skips the is_active check: a deactivated user's session must end at once.
        return ModelBackend.get_user(self, user_id)
