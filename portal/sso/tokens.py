"""Verifying an ID token against the provider's keys: signature, algorithm, issuer, audience, expiry
and nonce. Pure: the keys come in as a JWKS document, nothing is fetched here.

mozilla-django-oidc checks the signature and the nonce but neither the issuer nor the audience; the
portal's backend (portal/sso/backend.py) verifies with this module instead.
"""

from __future__ import annotations

import jwt

# Seconds of clock difference allowed between the provider and the portal.
LEEWAY_SECONDS = 60
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


class InvalidIdToken(Exception):
    """The ID token cannot be trusted; the message says why, in words for the sign-in error page."""


class UnknownSigningKey(InvalidIdToken):
    """No key of the document has the token's key id: the provider may have rotated its keys."""


def signing_key(token: str, keys: dict, algorithms: list[str]) -> jwt.PyJWK:
    """The key of `keys` (a JWKS document) that signed `token`, checked against the allowed algorithms."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidIdToken("The provider's ID token is not a signed token.") from error
    algorithm = header.get("alg")
    if algorithm not in algorithms:
        raise InvalidIdToken(
            f"The ID token is signed with {algorithm or 'no algorithm'}, not {' or '.join(algorithms)}."
        )
    candidates = [
        key
        for key in keys.get("keys", [])
        if isinstance(key, dict)
        and key.get("use", "sig") == "sig"
        and key.get("alg", algorithm) == algorithm
        and (header.get("kid") is None or key.get("kid") == header.get("kid"))
    ]
    if not candidates:
        raise UnknownSigningKey("The ID token is signed with a key the provider does not publish.")
    try:
        return jwt.PyJWK(candidates[0], algorithm=algorithm)
    except jwt.PyJWTError as error:
        raise InvalidIdToken("The provider publishes a signing key the portal cannot read.") from error


def verify_id_token(
    token: str, *, keys: dict, issuer: str, audience: str, algorithms: list[str], nonce: str | None
) -> dict:
    """The token's claims when it was signed by one of `keys`, for `audience`, by `issuer`, is not
    expired and carries `nonce`; InvalidIdToken (saying why) otherwise."""
    if not isinstance(token, str) or not token:
        raise InvalidIdToken("The provider sent no ID token.")
    key = signing_key(token, keys, algorithms)
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=algorithms,
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidIdToken("The ID token has expired. Sign in again.") from error
    except jwt.InvalidAudienceError as error:
        raise InvalidIdToken("The ID token was made for another application, not this portal.") from error
    except jwt.InvalidIssuerError as error:
        raise InvalidIdToken(f"The ID token was not issued by {issuer}.") from error
    except jwt.InvalidSignatureError as error:
        raise InvalidIdToken("The ID token's signature does not match: it was changed on the way.") from error
    except jwt.MissingRequiredClaimError as error:
        raise InvalidIdToken(f"The ID token has no {error.claim} claim.") from error
    except jwt.PyJWTError as error:
        raise InvalidIdToken(f"The ID token is not valid ({error}).") from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != audience:
        raise InvalidIdToken("The ID token was made for another application, not this portal.")
    if nonce is not None and claims.get("nonce") != nonce:
        raise InvalidIdToken("The ID token answers another sign-in (its nonce differs). Sign in again.")
    return claims
