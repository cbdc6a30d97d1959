"""API tokens: making, revoking and checking them, their expiry and who may manage team tokens.

A personal token acts as its user. A team token belongs to a team (for CI pipelines): it acts as the
team with a role (member or viewer), in that team only, and outlives the person who made it. Owners of
the team (and staff, and the command line) make, list and revoke its team tokens.

Every token expires: API_TOKEN_DEFAULT_DAYS after it is made unless a date or a number of days is
asked for, never later than API_TOKEN_MAX_DAYS ahead. Only with API_TOKEN_MAX_DAYS=0 (no maximum)
may a token never expire.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from plumbing.errors import ServiceError

from . import identity_cache
from .actors import Actor
from .changes import change_record
from .models import ApiToken, Membership, Tenant

API_TOKEN_PREFIX = "op_"
# last_used is a hint for people, not an audit log: write it at most this often per token (or at
# once when the address changes).
API_TOKEN_TOUCH_SECONDS = 60
# What `expires` takes for a token that never expires (API_TOKEN_MAX_DAYS=0 only).
NEVER = "never"
# Without a maximum, a number of days still has to be a date a computer can write down.
DAYS_WITHOUT_MAXIMUM = 36500
READ_METHODS = ("GET", "HEAD", "OPTIONS")
NEW_TOKEN = "Create a new one on the Tokens page."


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- expiry -----------------------------------------------------------------------------------


def _days_allowed() -> int:
    return settings.API_TOKEN_MAX_DAYS or DAYS_WITHOUT_MAXIMUM


def _expiry_sentence() -> str:
    most = settings.API_TOKEN_MAX_DAYS
    if most:
        return f"Give expires as a number of days from 1 to {most}, or a date within {most} days, such as 2026-03-01."
    return f'Give expires as a number of days (1 or more), a date such as 2026-03-01, or "{NEVER}".'


def _bad_expiry(code: str, sentence: str) -> ServiceError:
    return ServiceError(code, f"{sentence} {_expiry_sentence()}", field="expires")


def api_token_expiry(expires=None, *, now: datetime | None = None) -> datetime | None:
    """When a new token stops working: None for never. `expires` is None (the default), a number of days
    (an int, or text of digits), a date (or its ISO text, YYYY-MM-DD: the token stops at 00:00 UTC that
    day), a datetime, or "never"; anything else, a past date or one past the maximum is refused."""
    now = now or timezone.now()
    most = settings.API_TOKEN_MAX_DAYS
    if expires is None or expires == "":
        days = min(settings.API_TOKEN_DEFAULT_DAYS, most) if most else settings.API_TOKEN_DEFAULT_DAYS
        return now + timedelta(days=days)
    if isinstance(expires, str):
        expires = _parse_expiry(expires.strip())
        if expires == NEVER:
            if most:
                raise _bad_expiry(
                    "expiry_required", f"Tokens here must expire within {most} days (API_TOKEN_MAX_DAYS)."
                )
            return None
    if isinstance(expires, bool) or not isinstance(expires, (int, date)):
        raise _bad_expiry("bad_expiry", "The expiry is not a number of days or a date.")
    if isinstance(expires, int):
        if expires < 1:
            raise _bad_expiry("expiry_in_past", "A token must work for at least one day.")
        if expires > _days_allowed():
            raise _bad_expiry("expiry_too_far", f"{expires} days is past the longest a token may work.")
        return now + timedelta(days=expires)
    if not isinstance(expires, datetime):
        expires = datetime.combine(expires, time.min, tzinfo=UTC)
    elif timezone.is_naive(expires):
        expires = timezone.make_aware(expires, UTC)
    if expires <= now:
        raise _bad_expiry("expiry_in_past", f"{expires.date().isoformat()} {expires:%H:%M} UTC has passed.")
    if expires > now + timedelta(days=_days_allowed()):
        raise _bad_expiry("expiry_too_far", f"{expires.date().isoformat()} is past the longest a token may work.")
    return expires


def _parse_expiry(text: str):
    """Text as the API, a page or the command line sends it: "never", digits (days) or an ISO date."""
    if text.lower() == NEVER:
        return NEVER
    if re.fullmatch(r"[0-9]{1,9}", text):
        return int(text)
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _bad_expiry("bad_expiry", f"{text} is not a day of the calendar.") from None
    raise _bad_expiry("bad_expiry", "The expiry is not a number of days or a date.")


# --- who may manage which tokens --------------------------------------------------------------


TEAM_TOKENS_OWNERS_ONLY = "Only the team's owners make and revoke its team tokens."


def _check_team_owner(actor: Actor, tenant: Tenant) -> None:
    """Owners of the team, staff and the command line manage its team tokens; a token never does."""
    if actor.team_token:
        raise ServiceError("owners_only", TEAM_TOKENS_OWNERS_ONLY, http_status=403)
    if actor.user is None or actor.user.is_staff:
        return
    if not Membership.objects.filter(user=actor.user, tenant=tenant, role=Membership.Role.OWNER).exists():
        raise ServiceError("owners_only", TEAM_TOKENS_OWNERS_ONLY, field="tenant", http_status=403)


def _token_details(actor: Actor, token: ApiToken) -> dict:
    """The token's scope, and whose it is when someone else (an admin, the command line) acted for its user."""
    details: dict = {"read_only": token.read_only, "expires": token.expires.isoformat() if token.expires else NEVER}
    if token.is_team_token:
        details["role"] = token.role
    elif not (actor.user is not None and actor.user == token.user):
        details["for"] = token.user.get_username()
    return details


# --- making, revoking, checking ---------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *,
    actor: Actor,
    name: str,
    user=None,
    tenant: Tenant | None = None,
    team: Tenant | None = None,
    role: str = "",
    expires=None,
    read_only: bool = False,
) -> tuple[ApiToken, str]:
    """Make a token and return it with its key; the key is not stored and cannot be shown again.

    A personal token for `user`, or (with `team` and `role`) a team token, which only the team's
    owners make. `tenant`: the team whose audit log records a personal token (the one its user
    works in), None for none; a team token is recorded in its team's. `expires`: as
    `api_token_expiry` takes it."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", "Name the token after what will use it, such as cli.", field="name")
    if len(name) > 100:
        raise ServiceError("name_too_long", "Token names are at most 100 characters.", field="name")
    if team is not None:
        _check_team_owner(actor, team)
        if role not in ApiToken.Role.values:
            raise ServiceError(
                "bad_role",
                "Choose the team token's role: member (changes things) or viewer (reads).",
                field="role",
            )
        user, tenant = None, team
    elif role:
        raise ServiceError("team_required", "A role is for team tokens: name the team as well.", field="tenant")
    elif user is None:
        raise ServiceError("user_required", "Say whom the token acts as: a user, or a team.", field="user")
    key = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        tenant=team,
        role=role if team is not None else "",
        created_by=actor.user,
        name=name,
        prefix=key[: len(API_TOKEN_PREFIX) + 8],
        key_hash=api_token_hash(key),
        expires=api_token_expiry(expires),
        read_only=bool(read_only),
    )
    change_record(actor=actor, action="token.create", tenant=tenant, obj=token, details=_token_details(actor, token))
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken, tenant: Tenant | None = None) -> ApiToken:
    """Stop a token at once; `tenant` as for api_token_create. A team token: its team's owners only."""
    if token.is_team_token:
        _check_team_owner(actor, token.tenant)
        tenant = token.tenant
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
    change_record(actor=actor, action="token.revoke", tenant=tenant, obj=token, details=_token_details(actor, token))
    return token


def api_token_authenticate(
    *, key: str, method: str = "GET", address: str = "", generation: int | None = None
) -> ApiToken:
    """The live token for a key, its last use marked; refused with a sentence when it is wrong or revoked
    (401, `invalid_token`, `revoked_token`), expired (401, `expired_token`, naming the day) or
    read-only and asked to change something (403, `read_only_token`).

    With the auth `generation` the request read, the token's row may come from this process's memory
    (`portal.identity_cache`); every check below is made on it all the same."""
    digest = api_token_hash(key)
    token = identity_cache.token_get(digest, generation)
    if token is None:
        try:  # get(): one row or none, key_hash being unique, with no ordering to compile or sort
            token = ApiToken.objects.select_related("user", "tenant").get(key_hash=digest)
        except ApiToken.DoesNotExist:
            token = None
        else:
            identity_cache.token_put(digest, generation, token)
    if token is None or (token.user is not None and not token.user.is_active):
        raise ServiceError("invalid_token", f"The API token is not valid. {NEW_TOKEN}", http_status=401)
    if token.revoked is not None:
        raise ServiceError("revoked_token", f"This API token was revoked. {NEW_TOKEN}", http_status=401)
    now = timezone.now()
    if token.is_expired(now):
        raise ServiceError(
            "expired_token",
            f"This API token expired on {token.expires.date().isoformat()} at {token.expires:%H:%M} UTC. {NEW_TOKEN}",
            http_status=401,
        )
    address = address[: ApiToken._meta.get_field("last_used_address").max_length]
    stale = token.last_used is None or (now - token.last_used).total_seconds() > API_TOKEN_TOUCH_SECONDS
    if stale or token.last_used_address != address:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now, last_used_address=address)
        token.last_used, token.last_used_address = now, address
        identity_cache.token_used(digest, now, address)
    token.auth_generation = generation  # the membership's entry is read under the same generation
    if token.read_only and method.upper() not in READ_METHODS:
        raise ServiceError("read_only_token", "This token can only read.", http_status=403)
    return token
