"""The settings of signing in: single sign-on with an OpenID Connect provider (mozilla-django-oidc, with the
portal's own backend and views in portal/sso/), and who may still use a local password.
`portal/settings.py` takes them in.

Single sign-on is on when OIDC_ISSUER and OIDC_CLIENT_ID are set. The provider's endpoints come from its
discovery document (OIDC_ISSUER + /.well-known/openid-configuration, or OIDC_DISCOVERY_URL), so the same
code works with Keycloak, Dex, Entra ID, Okta or Google with only these variables changed
(docs/identity.md).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from portal.environment import env_list

OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
OIDC_DISCOVERY_URL = os.environ.get("OIDC_DISCOVERY_URL", "") or (
    f"{OIDC_ISSUER}/.well-known/openid-configuration" if OIDC_ISSUER else ""
)
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_ENABLED = bool(OIDC_ISSUER and OIDC_RP_CLIENT_ID)
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
# The ID token's claim that lists the person's groups (Keycloak: "groups" with a group mapper; Entra ID:
# "groups", or "roles" for app roles).
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
# The login page's button says "Sign in with <label>".
OIDC_LABEL = os.environ.get("OIDC_LABEL", "single sign-on")
# Seconds for each call to the provider (discovery, keys, token): a provider that is down or slow gets
# a page that says so well within 5 s, and local sign-in stays offered.
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "2"))
# How long the discovery document and the signing keys are kept before they are asked for again
# (an ID token signed with a key not yet seen asks again at once).
OIDC_METADATA_SECONDS = int(os.environ.get("OIDC_METADATA_SECONDS", "600"))
# Whom a person with no mapped group is told to ask, besides the owners of the teams.
OIDC_HELP_CONTACT = os.environ.get("OIDC_HELP_CONTACT", "the portal's staff")

# mozilla-django-oidc: authorization code flow with PKCE (S256), state and nonce; ID tokens signed with
# RS256 and checked against the provider's keys (portal/sso/tokens.py also checks issuer, audience and
# expiry, which the library does not).
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGORITHM", "RS256")
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # the hint for the provider's end-session endpoint at sign-out
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
OIDC_MAX_STATES = 20
# Extra origins that sign-out may send the browser to (the Content-Security-Policy's form-action), when
# the provider's end-session endpoint is not on the issuer's origin.
OIDC_LOGOUT_ORIGINS = env_list("OIDC_LOGOUT_ORIGINS")

# "all" (default): anyone with a password signs in locally. "staff-only": only staff do (a way in when
# the provider is down); everyone else uses single sign-on.
LOCAL_LOGIN = os.environ.get("LOCAL_LOGIN", "all").strip().lower()
if LOCAL_LOGIN not in {"all", "staff-only"}:
    raise ImproperlyConfigured('LOCAL_LOGIN is "all" or "staff-only".')
