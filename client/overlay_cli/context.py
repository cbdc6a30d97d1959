"""What every command shares: the profile's API client, made once and only when a command needs it,
and the --format and --detach options."""

from __future__ import annotations

from typing import Any

import click

from .api import Api
from .config import load

FORMATS = click.Choice(["table", "json"])


class Context:
    def __init__(self, profile_name: str | None):
        self.profile_name = profile_name
        self._api: Api | None = None

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(load(self.profile_name))
        return self._api


pass_context = click.make_pass_decorator(Context)


def format_option(function: Any) -> Any:
    return click.option("--format", "fmt", type=FORMATS, default="table", help="table (default) or json.")(function)


def detach_option(function: Any) -> Any:
    return click.option("--detach", "-d", is_flag=True, help="Print the operation's id at once, without waiting.")(
        function
    )
