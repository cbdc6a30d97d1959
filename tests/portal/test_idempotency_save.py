"""An Idempotency-Key's answer stored with the object's rows: a key another request stored meanwhile is refused
with its sentence (409), whether the answer is written alone or sent with the rows (plumbing/writes.py); any
other violation among the rows sent with it stays the error it is."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from networks.models import Operation
from plumbing.errors import ServiceError
from plumbing.writes import Writes
from portal.services import idempotency_fingerprint, idempotency_save
from tests.factories import make_operation

pytestmark = pytest.mark.django_db


def save(team, writes: Writes | None = None, key: str = "once") -> None:
    fingerprint = idempotency_fingerprint(method="POST", path="/api/v1/networks/", tenant_id=team.tenant.pk, body=b"{}")
    idempotency_save(
        user=team.owner, key=key, fingerprint=fingerprint, status_code=202, body={"id": 1}, location="", writes=writes
    )


@pytest.mark.parametrize("gathered", [False, True])
def test_a_key_stored_meanwhile_is_refused_with_its_sentence(team, gathered):
    save(team)
    with pytest.raises(ServiceError) as refused, transaction.atomic():
        save(team, Writes() if gathered else None)
    assert refused.value.code == "idempotency_conflict" and refused.value.http_status == 409


def test_another_violation_sent_with_the_answer_is_not_taken_for_the_key(team):
    taken = make_operation(team)
    writes = Writes()
    twin = Operation(tenant=team.tenant, cluster=team.cluster, kind=taken.kind, target="twin", pk=taken.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        writes.insert([twin])  # the same primary key: written at once on SQLite, sent with the answer elsewhere
        save(team, writes, key="other")
