"""People leaving: staff deactivate an account in one step, which ends its sessions at once and revokes
its personal API tokens, an audit entry each. The account and its history stay; it cannot sign in,
with a password or through the provider, until staff make it active again.
"""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from plumbing.errors import ServiceError

from .actors import Actor
from .changes import change_record
from .models import ApiToken
from .services import api_token_revoke

SESSION_USER_KEY = "_auth_user_id"  # where django.contrib.auth keeps the signed-in user in a session


def sessions_end(*, user) -> int:
    """Delete every live session signed in as `user`; returns how many."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_USER_KEY) == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@transaction.atomic
def user_deactivate(*, actor: Actor, user) -> dict:
    """Deactivate `user`: no more sign-in, sessions ended, personal tokens revoked. Returns what was done."""
    if actor.user is not None and actor.user.pk == user.pk:
        raise ServiceError("deactivate_self", "You cannot deactivate your own account; ask another staff member.")
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    tokens = list(ApiToken.objects.select_for_update().filter(user=user, revoked__isnull=True))
    for token in tokens:
        api_token_revoke(actor=actor, token=token)
    sessions = sessions_end(user=user)
    change_record(
        actor=actor,
        action="user.deactivate",
        tenant=None,
        obj=user,
        details={"sessions_ended": sessions, "tokens_revoked": len(tokens)},
    )
    return {"sessions": sessions, "tokens": len(tokens)}
