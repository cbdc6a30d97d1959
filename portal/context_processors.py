"""Template context every page may show: the API tokens about to stop working (a line at the top of
the dashboard and the Tokens page). Read only when a template asks for it."""

from django.utils.functional import SimpleLazyObject

from .selectors import api_tokens_expiring
from .team_token_user import TeamTokenUser


def expiring_tokens(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or isinstance(user, TeamTokenUser):
        return {"expiring_tokens": ()}
    return {"expiring_tokens": SimpleLazyObject(lambda: list(api_tokens_expiring(user=user)))}
