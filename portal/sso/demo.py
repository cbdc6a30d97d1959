"""The demo people's teams and group mappings (portal/sso/demo_people.json), which `manage.py demo_setup`
makes for the local provider that `make run` starts (scripts/oidc_provider.py)."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from ..actors import Actor
from ..models import SsoGroupMapping, Tenant
from .services import sso_mapping_set

DEMO_PEOPLE = Path(__file__).resolve().parent / "demo_people.json"


def demo_people() -> dict:
    return json.loads(DEMO_PEOPLE.read_text())


@transaction.atomic
def demo_mappings_setup(*, actor: Actor) -> list[SsoGroupMapping]:
    """The demo teams and the mappings of the demo groups to them; idempotent."""
    demo = demo_people()
    for team in demo["teams"]:
        Tenant.objects.get_or_create(slug=team["slug"], defaults={"name": team["name"]})
    return [
        sso_mapping_set(actor=actor, group=m["group"], tenant=Tenant.objects.get(slug=m["tenant"]), role=m["role"])
        for m in demo["mappings"]
    ]
