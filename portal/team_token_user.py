"""The request's user for a team token: a stand-in for the team, not a model (no table)."""

from __future__ import annotations

from .models import ApiToken, Membership


class TeamTokenUser:
    """Whom a team token authenticates as (`request.user`): the team, not a person and not a row.

    It is signed in and active but never staff; its only membership is its token's team with its
    role (`portal/tenancy.py`), so it reaches that team only, with exactly that role's rights.
    Services see no user for it (`Actor.user` is None) and the audit log names the token.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, token: ApiToken):
        self.token = token
        self.username = token.name
        # Unsaved: the role's rights (can_change, can_manage) for the token's team, and nothing else.
        self.membership = Membership(tenant=token.tenant, role=token.role)

    def __str__(self) -> str:
        return f"team token {self.token.name} of {self.token.tenant}"

    def get_username(self) -> str:
        return self.token.name

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perm_list, obj=None) -> bool:
        return False

    def has_module_perms(self, app_label) -> bool:
        return False
