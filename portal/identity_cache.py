"""Who a token is, from memory: the API's token rows and memberships kept per web process while the
auth generation is unchanged; a signed-in person's memberships too.

A token request would otherwise read its token (with its user and team) and its membership from
the database every time. Each process keeps the rows it read, tagged with the auth generation it
read before them: a number in the shared cache (Redis, CACHE_URL), fetched with the wrong-token
limiter's counts in one round trip per request; a signed-in person's page reads the generation alone
(`generation_read`) and keeps the membership it acts in and the person's memberships (the tenant
switcher) the same way. Every change that can affect who may do what bumps
the generation once its transaction commits (`generation_bump`): saving or deleting a token, user,
membership or team, a user's groups or permissions, and these models' QuerySet.update(),
bulk_create() and bulk_update() (`IdentityQuerySet`); the signals (portal/identity_signals.py) catch the services, the admin
and the command line alike. The next request of any process then finds its entries out of date
and reads the rows again. What a token may do is still checked on every request against the rows
remembered: revoked, its user inactive, expired by the clock, read-only.

Only with a shared cache: without CACHE_URL each process would count its own generation and miss
the others' changes, so nothing is kept (API_IDENTITY_CACHE turns it off, or on in tests). When
the cache does not answer, nothing is read from memory; a bump the cache refused empties this
process's memory and is logged, and no entry is used longer than API_IDENTITY_CACHE_SECONDS.
"""

from __future__ import annotations

import copy
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction

from plumbing.api.throttling import COUNTING_DOWN, redis_client

GENERATION_KEY = "auth_generation"
# Entries per process before it starts again (tokens and memberships are few; keys are not kept for misses).
MOST_ENTRIES = 10_000
# Fields written on every use (last use) that change nobody's access: updating only them bumps nothing.
USE_FIELDS = frozenset({"last_used", "last_used_address"})
# What Django's auth remembers on a user object: a copy starts without it (permissions are read again).
_PERMISSION_CACHES = ("_perm_cache", "_user_perm_cache", "_group_perm_cache")

logger = logging.getLogger(__name__)

_tokens: dict[str, tuple[int, float, Any]] = {}  # the token rows, with their user and team
_memberships: dict[tuple, tuple[int, float, Any]] = {}  # a membership, None, or a tuple of them


def enabled() -> bool:
    return settings.API_IDENTITY_CACHE


# --- the generation -----------------------------------------------------------------------------


def generation_of(found: dict) -> int | None:
    """The generation among values read with `cache.get_many` (with GENERATION_KEY among the keys),
    started when it is not there; None: the identities are read from the database."""
    value = found.get(GENERATION_KEY)
    return _start() if value is None else int(value)


def generation_read() -> int | None:
    """The generation for a request that reads nothing else from the cache (a signed-in person's page):
    one round trip; None when nothing is kept or the cache does not answer."""
    if not enabled():
        return None
    try:
        return generation_of(cache.get_many([GENERATION_KEY]))
    except COUNTING_DOWN as error:
        logger.warning("The auth generation was not read: the cache does not answer (%s).", error)
        return None


def _start() -> int | None:
    """A random start (after the cache lost its keys, no old entry can match the new number); None
    when another process started it first."""
    start = secrets.randbits(62)
    try:
        return start if cache.add(GENERATION_KEY, start, None) else None
    except COUNTING_DOWN as error:
        logger.warning("The auth generation could not be started: the cache does not answer (%s).", error)
        return None


def generation_bump() -> None:
    """Bump the generation once the current transaction commits (at once outside of one): whenever the
    cache is shared, even where this process keeps nothing itself, since others may."""
    if not (enabled() or redis_client(cache, GENERATION_KEY) is not None):
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # One bump per transaction: an earlier one serves if no savepoint can drop it without this change.
        current = set(connection.savepoint_ids)
        if any(func is _bump and savepoints <= current for savepoints, func, _ in connection.run_on_commit):
            return
    transaction.on_commit(_bump, robust=True)


def _bump() -> None:
    forget()  # this process at once, whatever the cache answers
    for attempt in (1, 2):
        try:
            client = redis_client(cache, GENERATION_KEY)
            if client is None:
                if not cache.add(GENERATION_KEY, secrets.randbits(62), None):
                    cache.incr(GENERATION_KEY)
                return
            key = cache.make_and_validate_key(GENERATION_KEY)
            client.pipeline().set(key, secrets.randbits(62), nx=True).incr(key).execute()
            return
        except COUNTING_DOWN as error:
            if attempt == 2:
                logger.error(
                    "The auth generation was not bumped: the cache does not answer (%s). Other web processes "
                    "may use identities they remember for up to %s seconds.",
                    error,
                    settings.API_IDENTITY_CACHE_SECONDS,
                )


def forget() -> None:
    _tokens.clear()
    _memberships.clear()


# --- entries ------------------------------------------------------------------------------------


def _copy(obj):
    """A copy of a model object (or of a tuple of them) and of the related objects it holds, so no
    request changes another's."""
    if obj is None:
        return None
    if isinstance(obj, tuple):
        return tuple(_copy(each) for each in obj)
    clone = copy.copy(obj)
    for attribute in _PERMISSION_CACHES:
        clone.__dict__.pop(attribute, None)
    cached = clone._state.fields_cache
    for name, related in cached.items():
        if isinstance(related, models.Model):
            cached[name] = _copy(related)
    return clone


def _fresh(entry, generation: int | None) -> bool:
    return (
        entry is not None
        and generation is not None
        and entry[0] == generation
        and time.monotonic() - entry[1] < settings.API_IDENTITY_CACHE_SECONDS
    )


def _put(store: dict, key, generation: int | None, value) -> None:
    if generation is None or not enabled():
        return
    if len(store) >= MOST_ENTRIES:
        store.clear()
    store[key] = (generation, time.monotonic(), _copy(value))


def token_get(digest: str, generation: int | None):
    """The token row for a key's digest (with its user and team), or None when not remembered."""
    entry = _tokens.get(digest)
    return _copy(entry[2]) if entry is not None and _fresh(entry, generation) else None


def token_put(digest: str, generation: int | None, token) -> None:
    _put(_tokens, digest, generation, token)


def token_used(digest: str, last_used, address: str) -> None:
    """The token's last use was written: remember it, so that this process does not write it again at once."""
    entry = _tokens.get(digest)
    if entry is not None:
        entry[2].last_used, entry[2].last_used_address = last_used, address


MISSING = object()


def membership_get(key: tuple, generation: int | None):
    """The membership (or None: none) remembered for a user, tenant and session, or MISSING."""
    entry = _memberships.get(key)
    return _copy(entry[2]) if entry is not None and _fresh(entry, generation) else MISSING


def membership_put(key: tuple, generation: int | None, membership) -> None:
    _put(_memberships, key, generation, membership)


def memberships_get(user_pk: int, generation: int | None):
    """A user's memberships (a tuple, with their tenants) remembered, or MISSING."""
    return membership_get(("all", user_pk), generation)


def memberships_put(user_pk: int, generation: int | None, memberships: tuple) -> None:
    _put(_memberships, ("all", user_pk), generation, memberships)


# --- what bumps it --------------------------------------------------------------------------------


class IdentityQuerySet(models.QuerySet):
    """Writes that send no signal bump the generation too (a token's last use alone does not)."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        if not USE_FIELDS.issuperset(kwargs):
            generation_bump()
        return rows

    update.alters_data = True  # type: ignore[attr-defined]  # as Django marks QuerySet.update
    update.queryset_only = False  # type: ignore[attr-defined]

    def bulk_create(self, *args, **kwargs):
        made = super().bulk_create(*args, **kwargs)
        generation_bump()
        return made

    def bulk_update(self, objs, fields, *args, **kwargs):
        rows = super().bulk_update(objs, fields, *args, **kwargs)
        if not USE_FIELDS.issuperset(fields):
            generation_bump()
        return rows
