"""Single sign-on's rules: who a provider person is here, which teams their groups give them, and the
group mappings staff keep.

`sso_sign_in` finds the user by the (issuer, subject) identity, never by a name, and makes one on a
first sign-in under a name of their own; it brings the memberships that came from mappings in line
with the person's current groups (added, role changed, removed, an audit entry each) and leaves the
memberships owners added by hand alone. All of it happens in one transaction: a refusal leaves
nothing made.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import capfirst

from plumbing.errors import ServiceError

from ..actors import Actor
from ..changes import change_record
from ..models import Membership, SsoGroupMapping, SsoIdentity, Tenant

USERNAME_MAX_LENGTH = 150
NOT_USERNAME = re.compile(r"[^\w.@+-]")
# Higher wins when two of a person's groups map to the same team.
ROLE_RANK: dict[str, int] = {Membership.Role.VIEWER: 1, Membership.Role.MEMBER: 2, Membership.Role.OWNER: 3}


@dataclass(frozen=True)
class SignIn:
    """Who signed in, whether the account was made now (under which name), and the teams they lost."""

    user: Any
    created: bool
    wanted_username: str
    removed_from: tuple[Tenant, ...] = ()

    @property
    def has_team(self) -> bool:
        return Membership.objects.filter(user=self.user).exists()


def no_team(username: str) -> ServiceError:
    return ServiceError(
        "no_team",
        f"{username} is in none of the groups that give a team in this portal. Ask the owners of the team you "
        f"work with to have one of your groups mapped to it, or ask {settings.OIDC_HELP_CONTACT}.",
        http_status=403,
    )


def groups_of(claims: dict) -> set[str]:
    """The values of the groups claim; a missing or malformed claim is refused, changing nothing."""
    name = settings.OIDC_GROUPS_CLAIM
    value = claims.get(name)
    if value is None:
        overage = name in (claims.get("_claim_names") or {})
        raise ServiceError(
            "missing_groups",
            f"{capfirst(settings.OIDC_LABEL)} sent "
            + ("too many groups to fit in the token" if overage else f'no "{name}" claim')
            + f", so the portal cannot tell which teams are yours. Ask {settings.OIDC_HELP_CONTACT} to have the "
            f'provider send the "{name}" claim in the ID token (docs/identity.md says how).',
            http_status=403,
        )
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(group, str) for group in value):
        raise ServiceError(
            "bad_groups",
            f'The "{name}" claim {settings.OIDC_LABEL} sent is not a list of group names. Ask '
            f"{settings.OIDC_HELP_CONTACT} to check the provider's group mapper.",
            http_status=403,
        )
    return set(value)


def wanted_roles(groups: set[str]) -> dict[int, tuple[str, str]]:
    """Team id → (role, group) for the groups that are mapped; the highest role wins.

    The mappings are few and read whole: a claim of thousands of groups is one set lookup each, not
    a query with thousands of parameters."""
    wanted: dict[int, tuple[str, str]] = {}
    for mapping in SsoGroupMapping.objects.order_by("group", "tenant_id"):
        if mapping.group in groups:
            held = wanted.get(mapping.tenant_id)
            if held is None or ROLE_RANK[mapping.role] > ROLE_RANK[held[0]]:
                wanted[mapping.tenant_id] = (mapping.role, mapping.group)
    return wanted


def username_wanted(claims: dict) -> str:
    """preferred_username, else the e-mail's local part, else the subject, in the characters Django allows."""
    for candidate in (claims.get("preferred_username"), str(claims.get("email") or "").split("@")[0], claims["sub"]):
        name = NOT_USERNAME.sub("", str(candidate or ""))[: USERNAME_MAX_LENGTH - 8]
        if name:
            return name
    return "user"


def username_free(wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`...: the first name no account has (never an existing account's)."""
    users = get_user_model().objects
    taken = set(users.filter(username__istartswith=wanted).values_list("username", flat=True))
    taken_lower = {name.lower() for name in taken}
    if wanted.lower() not in taken_lower:
        return wanted
    number = 2
    while f"{wanted}-{number}".lower() in taken_lower:
        number += 1
    return f"{wanted}-{number}"


def sso_sign_in(*, actor: Actor, issuer: str, claims: dict) -> SignIn:
    """The user the provider vouched for (`claims` from a verified ID token), their memberships brought
    in line with their groups. Refusals (a deactivated account, no groups claim, a first sign-in with no
    mapped group) are ServiceErrors and leave nothing made."""
    groups = groups_of(claims)
    try:
        with transaction.atomic():
            return _sign_in(actor, issuer, claims, groups)
    except IntegrityError as error:  # the same person's first sign-in in two tabs at once
        raise ServiceError(
            "sign_in_conflict", "Another sign-in of yours was being handled at the same moment. Sign in again."
        ) from error


def _sign_in(actor: Actor, issuer: str, claims: dict, groups: set[str]) -> SignIn:
    subject = str(claims["sub"])
    identity = (
        SsoIdentity.objects.select_for_update().select_related("user").filter(issuer=issuer, subject=subject).first()
    )
    wanted = wanted_roles(groups)
    wanted_name = username_wanted(claims)
    if identity is None:
        if not wanted:
            raise no_team(wanted_name)
        user = get_user_model().objects.create_user(
            username=username_free(wanted_name), email=str(claims.get("email") or "")[:254]
        )
        identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject)
        created = True
    else:
        user = identity.user
        created = False
        if not user.is_active:
            raise ServiceError(
                "deactivated",
                f"The account {user.username} was deactivated in this portal. Ask {settings.OIDC_HELP_CONTACT} "
                "if you should have it back.",
                http_status=403,
            )
    actor = dataclasses.replace(actor, user=user, name=user.get_username())
    if created:
        change_record(
            actor=actor, action="user.sso_create", tenant=None, obj=user, details={"issuer": issuer, "subject": subject}
        )
    identity.last_sign_in = timezone.now()
    identity.save(update_fields=["last_sign_in"])
    removed = _reconcile(actor, user, wanted)
    return SignIn(user=user, created=created, wanted_username=wanted_name, removed_from=tuple(removed))


def _reconcile(actor: Actor, user, wanted: dict[int, tuple[str, str]]) -> list[Tenant]:
    removed = []
    held = {m.tenant_id: m for m in Membership.objects.select_for_update().select_related("tenant").filter(user=user)}
    for tenant_id, membership in held.items():
        if membership.source != Membership.Source.PROVIDER:
            continue  # an owner added it by hand: not the provider's to change
        if tenant_id not in wanted:
            membership_id = membership.pk
            membership.delete()
            change_record(
                actor=actor,
                action="membership.sso_remove",
                tenant=membership.tenant,
                obj=membership,
                object_id=membership_id,
                details={"role": membership.role},
            )
            removed.append(membership.tenant)
        elif membership.role != wanted[tenant_id][0]:
            before, membership.role = membership.role, wanted[tenant_id][0]
            membership.save(update_fields=["role"])
            change_record(
                actor=actor,
                action="membership.sso_role_change",
                tenant=membership.tenant,
                obj=membership,
                details={"from": before, "to": membership.role, "group": wanted[tenant_id][1]},
            )
    tenants = Tenant.objects.in_bulk([tenant_id for tenant_id in wanted if tenant_id not in held])
    for tenant_id, tenant in tenants.items():
        role, group = wanted[tenant_id]
        membership = Membership.objects.create(user=user, tenant=tenant, role=role, source=Membership.Source.PROVIDER)
        change_record(
            actor=actor,
            action="membership.sso_add",
            tenant=tenant,
            obj=membership,
            details={"role": role, "group": group},
        )
    return removed


# --- Group mappings ---------------------------------------------------------------------------


def _check_mapping(group: str, role: str) -> tuple[str, str]:
    group = (group or "").strip()
    if not group:
        raise ServiceError("group_required", "Name the group, exactly as the provider sends it.", field="group")
    if len(group) > 255:
        raise ServiceError("group_too_long", "Group names are at most 255 characters.", field="group")
    if role not in Membership.Role.values:
        raise ServiceError("bad_role", f"The role is one of {', '.join(Membership.Role.values)}.", field="role")
    return group, role


@transaction.atomic
def sso_mapping_set(*, actor: Actor, group: str, tenant: Tenant, role: str) -> SsoGroupMapping:
    """Members of `group` get `role` in `tenant` from their next sign-in on."""
    group, role = _check_mapping(group, role)
    mapping, _ = SsoGroupMapping.objects.update_or_create(group=group, tenant=tenant, defaults={"role": role})
    change_record(
        actor=actor, action="sso_mapping.set", tenant=tenant, obj=mapping, details={"group": group, "role": role}
    )
    return mapping


@transaction.atomic
def sso_mapping_remove(*, actor: Actor, group: str, tenant: Tenant) -> None:
    """Stop mapping `group` to `tenant`; its members lose the membership at their next sign-in."""
    mapping = SsoGroupMapping.objects.filter(group=(group or "").strip(), tenant=tenant).first()
    if mapping is None:
        raise ServiceError(
            "no_such_mapping", f'The group "{group}" is not mapped to {tenant.name}.', field="group", http_status=404
        )
    mapping_id = mapping.pk
    mapping.delete()
    change_record(
        actor=actor,
        action="sso_mapping.remove",
        tenant=tenant,
        obj=mapping,
        object_id=mapping_id,
        details={"group": group},
    )
