"""`overlay run`, `ps`, `port`, `stop`, `start`, `restart`, `rm` and `diagnose`: docker's container verbs."""

from __future__ import annotations

import os
from datetime import datetime

import click

from .api import Api, ApiError
from .context import Context, detach_option, format_option, pass_context
from .output import ago, finish, print_json, print_table, since, stderr, wait
from .types import Container, ContainerRunBody, Diagnostics, EnvironmentBody, NetworkAttachBody, PortAnswer


def command_column(command: list[str] | None) -> str:
    """`docker ps`'s COMMAND: the words as they were given, cut to 20 characters with an ellipsis, quoted."""
    words = " ".join(command or [])
    return '"' + (words if len(words) <= 20 else words[:19] + "…") + '"'


def status_column(container: Container, now: datetime | None = None) -> str:
    """`docker ps`'s STATUS: "Up 5 minutes", "Exited (0) 3 minutes ago"; the portal's word for a container
    Docker does not hold yet or any more (creating, removing, failed), or whose times the portal has not read."""
    status, started, finished = container["status"], container.get("started_at"), container.get("finished_at")
    if status == "running" and started:
        return f"Up {since(started, now)}"
    if status == "exited" and finished:
        return f"Exited ({container.get('exit_code')}) {ago(finished, now)}"
    return status


def short(container: Container) -> str:
    return (container.get("docker_id") or str(container["id"]))[:12]


@click.command(context_settings={"allow_interspersed_args": False})
@click.argument("image")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--name", required=True, help="The container's name (the portal needs one).")
@click.option("--detach", "-d", is_flag=True, help="Accepted as docker's: the portal never attaches to the output.")
@click.option("--net", "--network", "nets", multiple=True, help="A network to join (the first at start).")
@click.option("--network-alias", "aliases", multiple=True, help="Another DNS name on the first network.")
@click.option("--ip", default="", help="A static IPv4 address on the first network.")
@click.option("--publish", "-p", multiple=True, help="HOST:CONTAINER[/udp]; published ports expose the container.")
@click.option("--publish-all", "-P", is_flag=True, help="Publish every exposed port on a free port.")
@click.option("--env", "-e", multiple=True, help="NAME=VALUE, or NAME to take its value from here.")
@click.option("--secret-env", multiple=True, help="NAME=VALUE kept secret: shown as •••••• by the portal.")
@click.option("--restart", default="", help="no, always, unless-stopped or on-failure.")
@click.option("--node", default="", help="The node to run on; without it the portal spreads.")
@click.option("--no-wait", is_flag=True, help="Print the operation's id at once, without waiting.")
@pass_context
def run(context: Context, image: str, command: tuple[str, ...], name: str, detach: bool, nets: tuple[str, ...],
        aliases: tuple[str, ...], ip: str, publish: tuple[str, ...], publish_all: bool, env: tuple[str, ...],
        secret_env: tuple[str, ...], restart: str, node: str, no_wait: bool) -> None:  # fmt: skip
    """Run a container on the team's cluster (docker run -d): waits until it runs, then prints its id."""
    body: ContainerRunBody = {"name": name, "image": image}
    if command:
        body["command"] = list(command)
    if nets:
        networks: list[NetworkAttachBody] = [{"network": net} for net in nets]
        if aliases:
            networks[0]["aliases"] = list(aliases)
        if ip:
            networks[0]["ipv4_address"] = ip
        body["networks"] = networks
    elif aliases or ip:
        raise click.UsageError("--network-alias and --ip need --net.")
    environment: list[EnvironmentBody] = []
    for value in env:
        key, sep, rest = value.partition("=")
        if not key:
            raise click.BadParameter(f'"{value}" is not NAME=VALUE.', param_hint="--env")
        environment.append({"name": key, "value": rest if sep else os.environ.get(key, "")})
    for value in secret_env:
        key, sep, rest = value.partition("=")
        if not key or not sep:
            raise click.BadParameter("expects NAME=VALUE.", param_hint="--secret-env")
        environment.append({"name": key, "value": rest, "secret": True})
    if environment:
        body["environment"] = environment
    if publish:
        body["ports"] = list(publish)
    if publish_all:
        body["publish_all"] = True
    if restart:
        body["restart_policy"] = restart
    if node:
        body["node"] = node
    api = context.api
    operation = api.container_run(body)
    if no_wait:
        click.echo(operation["id"])
        return
    done = wait(api, operation)
    container: Container = api.call("containers_retrieve", id=done["container"])
    click.echo(container.get("docker_id") or container["id"])


@click.command()
@click.option("--all", "-a", "show_all", is_flag=True, help="Also the containers that are not running.")
@click.option("--filter", "-f", "filters", multiple=True, help="name=…, status=…")
@click.option("--quiet", "-q", is_flag=True, help="Only the ids.")
@format_option
@pass_context
def ps(context: Context, show_all: bool, filters: tuple[str, ...], quiet: bool, fmt: str) -> None:
    """List containers (docker ps)."""
    wanted = dict(value.partition("=")[::2] for value in filters)
    if set(wanted) - {"name", "status"}:
        raise click.BadParameter("use name= or status=.", param_hint="--filter")
    if not show_all and "status" not in wanted:
        wanted["status"] = "running"
    api = context.api
    rows: list[Container] = (
        api.results("containers_list", **wanted) if "status" in wanted else api.live("containers_list", **wanted)
    )
    rows.sort(key=lambda row: row["created"], reverse=True)  # docker's order: the newest first
    if quiet:
        for row in rows:
            click.echo(short(row))
    elif fmt == "json":
        print_json(rows)
    else:
        print_table(
            ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
            [
                [
                    short(row),
                    row["image"],
                    command_column(row["command"]),
                    ago(row["created"]),
                    status_column(row),
                    ", ".join(row["exposure"]),
                    row["name"],
                ]
                for row in rows
            ],
        )


@click.command()
@click.argument("container")
@click.argument("port", required=False)
@format_option
@pass_context
def port(context: Context, container: str, port: str | None, fmt: str) -> None:
    """The container's published ports, at its node's address (docker port)."""
    api = context.api
    answer: PortAnswer = api.call(
        "containers_port", id=api.container_id(container), params={"port": port} if port else None
    )
    if fmt == "json":
        print_json(answer)
    else:
        for line in answer["lines"]:
            click.echo(line)


@click.command()
@click.argument("container")
@click.argument("target")
@click.option("--port", type=click.IntRange(1, 65535), help="Also check that this TCP port answers.")
@format_option
@pass_context
def diagnose(context: Context, container: str, target: str, port: int | None, fmt: str) -> None:
    """Resolve TARGET by name from inside CONTAINER (and reach --port): DNS between containers."""
    api = context.api
    body = {"target": target, **({"port": port} if port else {})}
    answer: Diagnostics = api.call("containers_diagnose", id=api.container_id(container), body=body)
    if fmt == "json":
        print_json(answer)
    else:
        for check in answer["checks"]:
            click.echo(f"{check['kind']}: {'ok' if check['ok'] else 'FAILED'} - {check['summary']}")
    if not answer["ok"]:
        raise ApiError(f"{target} is not reachable from {answer['container']}.")


def _each(api: Api, names: tuple[str, ...], endpoint: str, detach: bool) -> None:
    failed = False
    for name in names:
        try:
            finish(api, api.call(endpoint, id=api.container_id(name)), detach=detach, result=name)
        except ApiError as error:
            stderr(error.message)
            failed = True
    if failed:
        raise SystemExit(1)


def _verb(verb: str, summary: str) -> click.Command:
    @click.command(verb, help=f"{summary} (docker {verb}).")
    @click.argument("containers", nargs=-1, required=True)
    @detach_option
    @pass_context
    def command(context: Context, containers: tuple[str, ...], detach: bool) -> None:
        _each(context.api, containers, f"containers_{verb}", detach)

    return command


@click.command()
@click.argument("containers", nargs=-1, required=True)
@click.option("--force", "-f", is_flag=True, help="Stop and remove a running container.")
@click.option("--detach", is_flag=True, help="Print the operation's id at once, without waiting.")
@pass_context
def rm(context: Context, containers: tuple[str, ...], force: bool, detach: bool) -> None:
    """Remove containers (docker rm [-f]): a running one only with -f, as docker."""
    api = context.api
    if not force:
        for name in containers:
            found: Container = api.call("containers_retrieve", id=api.container_id(name))
            # A protected system container is refused by the portal whatever the flag: its sentence, not docker's.
            if found["status"] == "running" and not found.get("is_system"):
                raise ApiError(
                    f"You cannot remove a running container {name}: stop it first (`overlay stop {name}`), "
                    "or remove it with `overlay rm -f`."
                )
    _each(api, containers, "containers_remove" if force else "containers_destroy", detach)


COMMANDS = [
    run,
    ps,
    port,
    diagnose,
    _verb("stop", "Stop running containers"),
    _verb("start", "Start stopped containers"),
    _verb("restart", "Restart containers"),
    rm,
]
__all__ = ["COMMANDS", "wait"]
