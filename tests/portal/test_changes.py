"""The one record of a change: who acts (Actor), the entry change_record writes, and its listeners."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import RequestFactory

from portal import changes
from portal.actors import Actor
from portal.models import AuditEntry, Tenant
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)  # listeners hear of a change once it commits


@pytest.fixture
def heard():
    entries: list[AuditEntry] = []
    changes.subscribe(entries.append)
    yield entries
    changes.unsubscribe(entries.append)


def test_the_actor_of_a_request_is_its_user_and_address_and_a_command_is_manage_py():
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.4")
    request.user = make_user("ada")
    actor = Actor.of(request)
    assert (actor.user, actor.name, actor.address, actor.token_prefix) == (request.user, "ada", "198.51.100.4", "")
    assert (Actor.command().user, Actor.command().name, Actor.command().address) == (None, "manage.py", "")
    assert Actor.system("beat").name == "beat"


def test_a_committed_change_is_heard_once_with_its_entry_and_no_secret(heard):
    tenant = Tenant.objects.create(name="Ops", slug="ops")
    entry = changes.change_record(
        actor=Actor.command(), action="thing.do", tenant=tenant, obj=tenant, details={"size": 3, "api_key": "k"}
    )
    assert heard == [entry]
    assert (entry.actor, entry.tenant_name, entry.object_id, entry.details) == (
        "manage.py",
        "Ops",
        str(tenant.pk),
        {"size": 3},
    )


def test_a_change_rolled_back_leaves_no_entry_and_tells_nobody(heard):
    with pytest.raises(RuntimeError), transaction.atomic():
        changes.change_record(actor=Actor.command(), action="thing.do", tenant=None)
        raise RuntimeError("refused")
    assert heard == [] and not AuditEntry.objects.exists()


def test_a_failing_listener_does_not_keep_the_others_from_hearing(heard):
    def broken(entry):
        raise ValueError("down")

    changes.unsubscribe(heard.append)
    changes.subscribe(broken)  # the broken listener first, then the one that hears
    changes.subscribe(heard.append)
    try:
        with transaction.atomic():
            entry = changes.change_record(actor=Actor.command(), action="thing.do", tenant=None)
            assert heard == []  # not before the commit
    finally:
        changes.unsubscribe(broken)
    assert heard == [entry]
