"""An Idempotency-Key's request is recognised by an HMAC keyed with the server's secret, never by a plain
hash of a body that may hold a secret value; rows stored before that, and a rotated secret, still replay."""

import hashlib
import json

import pytest

from portal.models import IdempotencyRecord
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db

BODY = {"name": "web", "image": "overlay-portal/tools:latest", "environment": [{"name": "TOKEN", "value": "s3cret"}]}


def plain_sha256(team, body: dict) -> str:
    """What the portal stored before fingerprints were keyed: SHA-256 of method, path, tenant and body."""
    parts = [b"POST", b"/api/v1/containers/", str(team.tenant.pk).encode(), json.dumps(body, sort_keys=True).encode()]
    return hashlib.sha256(b"\n".join(parts)).hexdigest()


def run(team, body=BODY, key="run-web-1"):
    return team.api().post("containers/", body, headers={"Idempotency-Key": key})


def test_the_stored_fingerprint_is_keyed_with_the_server_secret(team, settings):
    assert run(team).status_code == 202
    stored = IdempotencyRecord.objects.get(key="run-web-1").fingerprint
    assert len(stored) == 64 and stored != plain_sha256(team, BODY)

    # Another server secret makes another fingerprint of the same request: the one stored no longer matches.
    settings.SECRET_KEY = "another-server-secret-" + "x" * 40
    assert_error(run(team), 422, "idempotency_key_reused")


def test_after_the_secret_is_rotated_a_retry_still_replays_and_the_row_is_keyed_anew(team, settings):
    first = run(team)
    before = IdempotencyRecord.objects.get(key="run-web-1").fingerprint
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-new-server-secret-" + "y" * 40

    again = run(team)
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    after = IdempotencyRecord.objects.get(key="run-web-1").fingerprint
    assert after != before and after != plain_sha256(team, BODY)


def test_a_row_stored_before_fingerprints_were_keyed_replays_and_loses_its_plain_hash(team):
    first = run(team)
    IdempotencyRecord.objects.filter(key="run-web-1").update(fingerprint=plain_sha256(team, BODY))

    again = run(team)
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert IdempotencyRecord.objects.get(key="run-web-1").fingerprint != plain_sha256(team, BODY)
    # ...and such a row still refuses the key for another request.
    IdempotencyRecord.objects.filter(key="run-web-1").update(fingerprint=plain_sha256(team, BODY))
    other = {**BODY, "name": "web2"}
    assert_error(run(team, other), 422, "idempotency_key_reused")
