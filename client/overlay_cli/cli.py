"""`overlay`: the root command, login/whoami, operations, and the one place errors become sentences.

Exit codes: 0 done, 1 the portal (or the network) said no, with its sentence on stderr, 2 a usage
error; never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from . import __version__, apply, containers, logs, networks
from .api import Api, ApiError
from .config import ConfigError, Profile, write_profile
from .context import Context, format_option, pass_context
from .output import describe, print_json, print_table, wait
from .types import ApiToken, Operation


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--profile", envvar="OVERLAY_PROFILE", help="The profile of ~/.config/overlay/config.toml to use.")
@click.version_option(__version__, prog_name="overlay")
@click.pass_context
def cli(ctx: click.Context, profile: str | None) -> None:
    """Overlay Portal from the shell, with the docker CLI's words and flags (docs/cli.md)."""
    ctx.obj = Context(profile)


@cli.command()
@click.option("--url", required=True, help="The portal's address, e.g. http://127.0.0.1:8000.")
@click.option("--token", required=True, help="An API token from the portal's Tokens page.")
@click.option("--tenant", default="", help="A team's short name (slug); without it, your first team.")
@click.option("--profile", "profile_name", default=None, help="Save as this profile (default: default).")
@pass_context
def login(context: Context, url: str, token: str, tenant: str, profile_name: str | None) -> None:
    """Check a token against a portal and save it in the config file (mode 0600)."""
    token = token.strip()
    if not token or any(character.isspace() for character in token):
        # An empty key is what `--token "$(a command that failed)"` gives: say so, not what httpx says.
        raise click.BadParameter(
            "the token is empty or has spaces in it: paste the key the Tokens page showed, "
            "or make one with `make token` (or manage.py api_token_create).",
            param_hint="--token",
        )
    profile = Profile(
        name=profile_name or context.profile_name or "default", url=url.rstrip("/"), token=token, tenant=tenant
    )
    Api(profile).call("networks_list", params={"page_size": 1})  # a wrong URL, token or team fails here
    path = write_profile(profile)
    click.echo(f"Login Succeeded (profile {profile.name}, saved in {path})")


@cli.command()
@format_option
@pass_context
def whoami(context: Context, fmt: str) -> None:
    """Who the token is, for which team, on which portal."""
    api = context.api
    profile = api.profile
    me: dict[str, Any] = {"url": profile.url, "profile": profile.name, "tenant": profile.tenant or "(your first team)"}
    try:
        tokens: list[ApiToken] = api.results("tokens_list")
    except ApiError as error:
        if error.status != 403:  # team tokens may not list tokens
            raise
        tokens = []
        me["token"] = "a team token"
    for token in tokens:
        if profile.token.startswith(token["prefix"]):
            me.update(user=token["created_by"], token=token["name"], expires=token["expires"])
            if token["tenant"]:
                me.update(tenant=token["tenant"], role=token["role"])
            break
    if fmt == "json":
        print_json(me)
    else:
        for key, value in me.items():
            if value is not None:
                click.echo(f"{key}: {value}")


@cli.command()
@click.argument("operation_id", required=False, type=int)
@click.option("--follow", "-f", is_flag=True, help="Wait for the operation to end, showing its steps.")
@click.option("--limit", "-n", default=20, show_default=True, help="How many of the latest to list.")
@format_option
@pass_context
def ops(context: Context, operation_id: int | None, follow: bool, limit: int, fmt: str) -> None:
    """The latest operations, or one operation (--follow waits for it to end)."""
    api = context.api
    if operation_id is None:
        rows: list[Operation] = api.results("operations_list")[:limit]
        if fmt == "json":
            print_json(rows)
        else:
            print_table(
                ["ID", "KIND", "TARGET", "STATUS", "CREATED"],
                [
                    [op["id"], op["kind"], op["target"], op["status"], op["created"][:19].replace("T", " ")]
                    for op in rows
                ],
            )
        return
    operation = api.operation(operation_id)
    if follow:
        try:
            operation = wait(api, operation)
        except ApiError:
            operation = api.operation(operation_id)
            _show_operation(operation, fmt)
            raise
    _show_operation(operation, fmt)


def _show_operation(operation: Operation, fmt: str) -> None:
    if fmt == "json":
        print_json(operation)
        return
    click.echo(describe(operation))
    for step in operation["progress"]:
        click.echo(f"  {step['at'][:19]}  {step['message']}")


cli.add_command(networks.network)
for command in containers.COMMANDS:
    cli.add_command(command)
cli.add_command(logs.logs)
cli.add_command(apply.apply)
cli.add_command(apply.export)


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="overlay", standalone_mode=False)
    except click.exceptions.UsageError as error:
        error.show()
        code = 2
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 1
    except (ApiError, ConfigError) as error:
        click.echo(str(error), err=True)
        code = 1
    except KeyboardInterrupt:
        click.echo("Interrupted: an operation already sent goes on in the portal (`overlay ops`).", err=True)
        code = 130
    except Exception as error:  # never a traceback
        click.echo(f"overlay failed unexpectedly ({type(error).__name__}: {error}): please report it.", err=True)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
