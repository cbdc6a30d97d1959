import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify

from plumbing.errors import ServiceError
from plumbing.prepared import PreparedObjects
from plumbing.writes import Writes

from .actors import Actor
from .changes import change_record
from .models import IdempotencyRecord, Membership, Tenant
from .team_token_user import TeamTokenUser

# The API token services live in tokens.py; callers name them here, with every other service.
from .tokens import api_token_authenticate as api_token_authenticate
from .tokens import api_token_create as api_token_create
from .tokens import api_token_revoke as api_token_revoke


@transaction.atomic
def tenant_create(*, name: str, slug: str | None = None) -> Tenant:
    return Tenant.objects.create(name=name, slug=slug or slugify(name))


@transaction.atomic
def membership_set(*, tenant: Tenant, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": role})
    return membership


def _check_role(role: str) -> str:
    if role not in Membership.Role.values:
        raise ServiceError("bad_role", f"The role is one of {', '.join(Membership.Role.values)}.", field="role")
    return role


def _check_not_last_owner(membership: Membership, verb: str) -> None:
    if membership.role != Membership.Role.OWNER:
        return
    owners = Membership.objects.select_for_update().filter(tenant=membership.tenant, role=Membership.Role.OWNER)
    if owners.exclude(pk=membership.pk).count() == 0:
        raise ServiceError(
            "last_owner",
            f"{membership.user.username} is the last owner of {membership.tenant.name}; "
            f"make someone else an owner before they are {verb}.",
            http_status=409,
        )


@transaction.atomic
def membership_add(*, actor: Actor, tenant: Tenant, username: str, role: str) -> Membership:
    """An owner adds an existing user to the tenant."""
    role = _check_role(role)
    user = get_user_model().objects.filter(username=(username or "").strip()).first()
    if user is None:
        raise ServiceError(
            "no_such_user",
            f'There is no user named "{username}". Ask an admin to create the account.',
            field="username",
        )
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ServiceError(
            "already_member",
            f"{user.username} is already a member of {tenant.name}; change their role instead.",
            field="username",
            http_status=409,
        )
    membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    change_record(actor=actor, action="membership.add", tenant=tenant, obj=membership, details={"role": role})
    return membership


@transaction.atomic
def membership_role_change(*, actor: Actor, membership: Membership, role: str) -> Membership:
    role = _check_role(role)
    if role != Membership.Role.OWNER:
        _check_not_last_owner(membership, "demoted")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    change_record(
        actor=actor,
        action="membership.role_change",
        tenant=membership.tenant,
        obj=membership,
        details={"from": before, "to": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership) -> None:
    _check_not_last_owner(membership, "removed")
    membership_id = membership.pk
    membership.delete()
    change_record(
        actor=actor, action="membership.remove", tenant=membership.tenant, obj=membership, object_id=membership_id
    )


@transaction.atomic
def demo_setup(
    *, actor: Actor, username: str = "demo", password: str = "overlay-demo", tenant_name: str = "Demo"
) -> tuple:
    """Create (or reset) the demo tenant and its owner; idempotent."""
    tenant, _ = Tenant.objects.get_or_create(slug=slugify(tenant_name), defaults={"name": tenant_name})
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    membership_set(tenant=tenant, user=user, role=Membership.Role.OWNER)
    change_record(actor=actor, action="tenant.demo_setup", tenant=tenant, obj=tenant, details={"owner": username})
    return tenant, user


# --- Idempotency-Key --------------------------------------------------------------------------


IDEMPOTENCY_FINGERPRINT_SALT = "overlay-portal.idempotency-fingerprint"


@dataclass(frozen=True)
class Fingerprint:
    """What a request sent with an Idempotency-Key is recognised by when it is retried.

    `stored` is an HMAC-SHA256 keyed with the server's secret (derived from SECRET_KEY): the body may
    hold a secret value, and a plain hash of it could be checked against guesses by anyone who reads
    the table. `also_accepted` are the same request's fingerprints from before: keyed with a
    SECRET_KEY_FALLBACKS key (the secret was rotated), or plain SHA-256 (rows stored before
    fingerprints were keyed; they are gone IDEMPOTENCY_KEY_TTL after the upgrade).
    """

    stored: str
    also_accepted: frozenset[str]

    def matches(self, fingerprint: str) -> bool:
        return fingerprint == self.stored or fingerprint in self.also_accepted


def idempotency_fingerprint(*, method: str, path: str, tenant_id, body: bytes) -> Fingerprint:
    request = b"\n".join([method.encode(), path.encode(), str(tenant_id).encode(), body])

    def keyed(secret: str) -> str:
        return salted_hmac(IDEMPOTENCY_FINGERPRINT_SALT, request, secret=secret, algorithm="sha256").hexdigest()

    before = {keyed(secret) for secret in settings.SECRET_KEY_FALLBACKS} | {hashlib.sha256(request).hexdigest()}
    return Fingerprint(stored=keyed(settings.SECRET_KEY), also_accepted=frozenset(before))


def _idempotency_cutoff():
    return timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)


def _idempotency_owner(user) -> dict:
    """Whose keys these are: a person's (whichever of their tokens sent it), or a team token's own."""
    return {"token": user.token} if isinstance(user, TeamTokenUser) else {"user": user}


# Every create with a key looks it up: compiled once, for a person's keys and for a team token's.
_records_of = {
    owner: PreparedObjects(
        lambda pk, key, owner=owner: IdempotencyRecord.objects.filter(**{owner: pk}, key=key)[:1],  # as .first()
        "pk",
        text=("key",),
    )
    for owner in ("user", "token")
}


def _idempotency_record(owner: dict, key: str) -> IdempotencyRecord | None:
    ((field, who),) = owner.items()
    if type(who.pk) is not int or type(key) is not str:
        return IdempotencyRecord.objects.filter(**owner, key=key).first()
    return next(iter(_records_of[field](pk=who.pk, key=key)), None)


def idempotency_find(*, user, key: str, fingerprint: Fingerprint) -> IdempotencyRecord | None:
    """The stored answer for a retried request; the same key with another request is refused.

    A key is remembered for IDEMPOTENCY_KEY_TTL seconds (a day by default); after that it is free again.
    A record found by an earlier fingerprint of the request is given the current one.
    """
    record = _idempotency_record(_idempotency_owner(user), key)
    if record is not None and record.created < _idempotency_cutoff():
        record.delete()  # expired: the key is free again (beat deletes the others every hour)
        record = None
    if record is not None and record.fingerprint != fingerprint.stored and fingerprint.matches(record.fingerprint):
        record.fingerprint = fingerprint.stored
        record.save(update_fields=["fingerprint"])
    if record is not None and record.fingerprint != fingerprint.stored:
        raise ServiceError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request. Use a new key for a new request.",
            http_status=422,
        )
    return record


def idempotency_save(
    *,
    user,
    key: str,
    fingerprint: Fingerprint,
    status_code: int,
    body,
    location: str = "",
    writes: Writes | None = None,
    commit: bool = False,
) -> None:
    """Store the answer inside the transaction that made the object, so both exist or neither does.

    A concurrent request with the same key that got there first makes this one fail and roll back (the
    whole transaction: the refusal is its answer, so no savepoint is needed to go on after it). `writes`: the
    record sent with what they gathered (the object's rows, plumbing/writes.py), in one round trip; `commit`:
    with the COMMIT too, when the caller's transaction ends with them (`Writes.send`).
    """
    record = IdempotencyRecord(
        **_idempotency_owner(user),
        key=key,
        fingerprint=fingerprint.stored,
        status_code=status_code,
        body=json.dumps(body),  # as text: a jsonb column would give the keys back in its own order
        location=location,
    )
    try:
        if writes is None:
            with transaction.atomic(savepoint=False):
                record.save(force_insert=True)
        else:
            writes.insert([record])
            writes.send(commit=commit)
    except IntegrityError as error:
        if writes is not None and not _key_taken(error):
            raise
        raise ServiceError(
            "idempotency_conflict",
            "Another request with this Idempotency-Key is being handled. Retry in a moment to get its answer.",
            http_status=409,
        ) from None


def _key_taken(error: IntegrityError) -> bool:
    """Whether the error is a key stored by another request (not another of the statements sent with it)."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    return constraint in KEY_CONSTRAINTS if constraint else "idempotencyrecord" in str(error)


KEY_CONSTRAINTS = ("idempotencyrecord_unique_user_key", "idempotencyrecord_unique_token_key")


def idempotency_expire() -> int:
    """Forget the answers older than IDEMPOTENCY_KEY_TTL; returns how many were deleted."""
    deleted, _ = IdempotencyRecord.objects.filter(created__lt=_idempotency_cutoff()).delete()
    return deleted
