"""Who is acting on a change: one value made at the edge and handed to the service that makes the change.

A page, the API and the admin make it from the request (`Actor.of`): the user, the API token the key
matched, and the client's address (portal/addresses.py). A team token acts with no user: the audit
log names the token. Management commands use `Actor.command()`
("manage.py" in the audit log); the worker's own upkeep uses `Actor.system(name)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .addresses import client_address
from .models import ApiToken

COMMAND_LINE = "manage.py"
ADDRESS_MAX_LENGTH = 64  # the audit log's column


@dataclass(frozen=True)
class Actor:
    """The user (None off the web and for anonymous requests), their name as the audit log shows it, the
    API token's name and prefix when a token was used, and the client's address (empty off the web).
    `team_token`: a team's token acted (user None, name the token's), not a person nor the command line."""

    user: Any
    name: str
    token_name: str = ""
    token_prefix: str = ""
    address: str = ""
    team_token: bool = False

    @classmethod
    def of(cls, request) -> Actor:
        """Who sent the request: a page's, the admin's or the API's (there `request.auth` is the token)."""
        token = getattr(request, "auth", None)
        token = token if isinstance(token, ApiToken) else None
        address = client_address(request)[:ADDRESS_MAX_LENGTH]
        if token is not None and token.is_team_token:
            return cls(
                user=None,
                name=token.name,
                token_name=token.name,
                token_prefix=token.prefix,
                address=address,
                team_token=True,
            )
        user = getattr(request, "user", None)
        user = user if user is not None and user.is_authenticated else None
        return cls(
            user=user,
            name=user.get_username() if user is not None else "anonymous",
            token_name=token.name if token else "",
            token_prefix=token.prefix if token else "",
            address=address,
        )

    @classmethod
    def command(cls) -> Actor:
        """A management command: no user, "manage.py" in the log."""
        return cls(user=None, name=COMMAND_LINE)

    @classmethod
    def system(cls, name: str) -> Actor:
        """The portal's own upkeep (a worker's periodic task), under the name the log shows."""
        return cls(user=None, name=name)
