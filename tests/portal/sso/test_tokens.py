"""portal/sso/tokens.py alone: ID tokens signed here with a key of the test's own, changed on the way,
expired, for another audience or issuer, with another algorithm or nonce, are each refused."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.sso.tokens import InvalidIdToken, UnknownSigningKey, verify_id_token

ISSUER = "https://id.example.com"
AUDIENCE = "overlay-portal"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(key=KEY, kid="k1") -> dict:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}


def claims(**changes) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300, "nonce": "n1", **changes}


def signed(payload: dict, key=KEY, kid="k1", algorithm="RS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def verify(token: str, keys: dict | None = None, nonce: str | None = "n1") -> dict:
    return verify_id_token(
        token, keys=keys or jwks(), issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], nonce=nonce
    )


def test_a_good_token_gives_its_claims():
    assert verify(signed(claims(groups=["a"])))["groups"] == ["a"]


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["groups"] = ["platform-owners"]
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("make_token", "says"),
    [
        (lambda: tampered(signed(claims())), "signature does not match"),
        (lambda: signed(claims(), key=OTHER_KEY), "signature does not match"),
        (lambda: signed(claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)), "expired"),
        (lambda: signed(claims(aud="another-app")), "another application"),
        (lambda: signed(claims(aud=[AUDIENCE, "another-app"])), "another application"),  # several audiences, no azp
        (lambda: signed(claims(iss="https://evil.example.com")), "not issued by"),
        (lambda: signed(claims(nonce="replayed")), "nonce"),
        (lambda: signed({k: v for k, v in claims().items() if k != "exp"}), "no exp claim"),
        (
            lambda: jwt.encode(claims(), "a-secret-shared-with-nobody-at-all-32b", algorithm="HS256"),
            "signed with HS256",
        ),
        (lambda: jwt.encode(claims(), None, algorithm="none"), "signed with none"),
        (lambda: "not-a-token", "not a signed token"),
        (lambda: "", "no ID token"),
    ],
)
def test_untrustworthy_tokens_are_refused_saying_why(make_token, says):
    # Made when the test runs, not when the module is collected: a full run reaches here many minutes later.
    with pytest.raises(InvalidIdToken, match=says):
        verify(make_token())


def test_a_key_the_provider_does_not_publish_asks_for_the_keys_again():
    with pytest.raises(UnknownSigningKey):
        verify(signed(claims(), kid="rotated"))


def test_several_audiences_are_accepted_when_the_portal_is_the_authorized_party():
    assert verify(signed(claims(aud=[AUDIENCE, "api"], azp=AUDIENCE)))["sub"] == "alice"
