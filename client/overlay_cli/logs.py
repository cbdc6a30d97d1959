"""`overlay logs [-f] [--tail N] [--since T] [-t] CONTAINER`: docker logs, on the portal's logs API.

The lines are read by a worker (secret values masked) and come oldest first; stdout lines go to
stdout, stderr lines to stderr, as docker prints them. Following is the API's long poll: each
answer's `next_since` is the next request's `since` (with follow=true), so nothing is missed or
printed twice; a worker that does not answer (503) or a throttle (429) is waited out, with a note.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import click

from .api import Api, ApiError
from .context import Context, pass_context
from .output import stderr
from .types import LogLine, Logs

MAX_TAIL = 10000  # the most the portal gives at once: docker's "all"
RETRY_SECONDS = 5.0  # when a 503 or 429 names no Retry-After
PATIENT = (429, 503)
DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
UNIX_TIME = re.compile(r"\d{1,12}(?:\.\d{1,9})?")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d(?:[T ].*)?")


def tail_count(value: str) -> int:
    """docker's --tail: "all" (the portal's most, 10000) or a number of lines, 0 for none."""
    if value == "all":
        return MAX_TAIL
    if not value.isdigit() or int(value) > MAX_TAIL:
        raise click.BadParameter(
            f'"{value}" is not a number of lines from 0 to {MAX_TAIL}, or all.', param_hint="--tail"
        )
    return int(value)


def since_param(value: str) -> str:
    """docker's --since as the API takes it: a duration (42m, 1h30m) is seconds ago, a Unix time
    (1764928800) an ISO time; an ISO time goes as it is (the portal checks it)."""
    value = value.strip()
    if DURATION.fullmatch(value):
        seconds = sum(float(number) * UNIT_SECONDS[unit] for number, unit in DURATION_PART.findall(value))
        return f"{seconds:.3f}"
    if UNIX_TIME.fullmatch(value):
        return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if ISO_TIME.fullmatch(value):
        return value if len(value) > 10 else f"{value}T00:00:00Z"  # docker's date alone: its midnight, UTC
    raise click.BadParameter(
        f'"{value[:40]}" is not a time: write one such as 2026-12-05T10:00:00Z, a duration such as 42m or 1h30m, '
        "or a Unix time.",
        param_hint="--since",
    )


def ask(api: Api, container_id: int, params: dict[str, Any], *, patient: bool) -> Logs:
    """One answer of the logs API; when following, a 503 or 429 is waited out (its Retry-After)."""
    while True:
        try:
            answer: Logs = api.call("containers_logs", id=container_id, params=params)
            return answer
        except ApiError as error:
            if not patient or error.status not in PATIENT:
                raise
            seconds = RETRY_SECONDS if error.retry_after is None else error.retry_after
            stderr(f"{error.message} Still following: asking again in {seconds:g} s.")
            time.sleep(seconds)


def show(lines: list[LogLine], timestamps: bool) -> None:
    for row in lines:
        text = f"{row['time']} {row['line']}" if timestamps and row["time"] else row["line"]
        click.echo(text, err=row["stream"] == "stderr")


@click.command()
@click.argument("container")
@click.option("--follow", "-f", is_flag=True, help="Follow the log: print new lines as they come, until Ctrl-C.")
@click.option(
    "--tail", "-n", default="all", show_default=True, help=f"Lines from the end: a number, or all ({MAX_TAIL})."
)
@click.option("--since", default="", help="Only lines after this: 2026-12-05T10:00:00Z, 42m, 1h30m or a Unix time.")
@click.option("--timestamps", "-t", is_flag=True, help="Begin each line with Docker's time of it (UTC, nanoseconds).")
@pass_context
def logs(context: Context, container: str, follow: bool, tail: str, since: str, timestamps: bool) -> None:
    """Print a container's log (docker logs): stdout lines to stdout, stderr lines to stderr."""
    count = tail_count(tail)
    flag = "true" if timestamps else "false"
    params: dict[str, Any] = {"tail": max(count, 1), "timestamps": flag}
    if since:
        params["since"] = since_param(since)
    api = context.api
    container_id = api.container_id(container)
    try:
        answer = ask(api, container_id, params, patient=follow)
        show(answer["lines"][-count:] if count else [], timestamps)
        while follow:
            params = {"tail": MAX_TAIL, "timestamps": flag, "follow": "true"}
            if answer["next_since"]:
                params["since"] = answer["next_since"]
            answer = ask(api, container_id, params, patient=True)
            show(answer["lines"], timestamps)
    except KeyboardInterrupt:  # Ctrl-C ends a follow, as docker's: exit 0
        return
