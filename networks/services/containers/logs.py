"""A container's logs (`docker logs --timestamps --tail N --since T`), read by a worker, secrets masked.

The web never calls Docker: `container_logs` checks the request and asks a worker (queue.ask, the
diagnostics' path) to run `container_logs_read`, which reads the lines from the container's node and
masks the values of the container's secret environment variables (read from Docker's own copy: the
portal forgets them once the container runs) before they leave the worker. Following is a long poll:
`container_logs` asks again every FOLLOW_POLL_SECONDS until new lines come or FOLLOW_SECONDS pass.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.dateparse import parse_datetime

from networks.engine import EngineError
from networks.engine import logs as engine_logs
from networks.models import Container
from plumbing.errors import ServiceError, not_found

from .. import queue
from ..protection import check_not_system
from .specs import MASK

DEFAULT_TAIL = 200
MAX_TAIL = 10000
FOLLOW_SECONDS = 20.0  # how long a follow request is held at most when no new line comes
FOLLOW_POLL_SECONDS = 1.0  # how often a held follow request asks the worker again
MIN_SECRET_LENGTH = 4  # shorter secret values ("1", "yes") are not masked: they would mask everything
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
DOCKER_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$")


@dataclass(frozen=True)
class LogQuery:
    tail: int = DEFAULT_TAIL
    since: str | None = None  # a time as `stamp` writes it: only lines after it
    timestamps: bool = True
    follow: bool = False


def stamp(moment: datetime) -> str:
    """A time as the log lines carry it: UTC, nine digits of fraction, so that strings sort as times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def docker_stamp(raw: str) -> str:
    """Docker's RFC 3339 nano time (trailing zeros trimmed) with the fraction padded to nine digits."""
    match = DOCKER_STAMP.match(raw)
    if not match:
        return raw
    return f"{match[1]}.{(match[2] or '').ljust(9, '0')}Z"


def _flag(params, name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in TRUE:
        return True
    if raw.strip().lower() in FALSE:
        return False
    raise ServiceError("bad_" + name, f"{name} is true or false (1 or 0).", field=name)


def _since(raw: str, now: datetime) -> str:
    raw = raw.strip()
    if re.fullmatch(r"\d{1,10}(\.\d+)?", raw):
        return stamp(now - timedelta(seconds=float(raw)))
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None:
        shown = f'"{raw[:40]}"' if raw.isprintable() else "That"
        raise ServiceError(
            "bad_since",
            f"{shown} is not a time: write an ISO time such as 2026-12-05T10:00:00Z, or a number of seconds "
            "ago such as 300.",
            field="since",
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    fraction = re.search(r"[T ]\d\d:\d\d:\d\d\.(\d{7,9})", raw)  # finer than microseconds: keep it
    text = stamp(moment)
    return text[:20] + fraction[1].ljust(9, "0") + "Z" if fraction and moment.utcoffset() == timedelta(0) else text


def parse_log_query(params, *, now: datetime | None = None) -> LogQuery:
    """`tail` (1 to MAX_TAIL), `since` (an ISO time or seconds ago), `timestamps` and `follow` (true or false)."""
    now = now or datetime.now(UTC)
    raw_tail = (params.get("tail") or "").strip()
    tail = DEFAULT_TAIL
    if raw_tail:
        tail = int(raw_tail) if raw_tail.isdigit() and len(raw_tail) <= 6 else 0
        if not 1 <= tail <= MAX_TAIL:
            raise ServiceError("bad_tail", f"tail is a number of lines from 1 to {MAX_TAIL}.", field="tail")
    raw_since = params.get("since") or ""
    return LogQuery(
        tail=tail,
        since=_since(raw_since, now) if raw_since.strip() else None,
        timestamps=_flag(params, "timestamps", True),
        follow=_flag(params, "follow", False),
    )


def secret_values(container: Container, environment: dict[str, str]) -> list[str]:
    """The values of the container's secret variables worth masking, longest first."""
    names = {row["name"] for row in container.environment if row.get("secret")}
    values = {environment[name] for name in names if len(environment.get(name, "")) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def masked(line: str, secrets: list[str]) -> str:
    for value in secrets:
        line = line.replace(value, MASK)
    return line


def _check_readable(container: Container) -> None:
    check_not_system(container, "read from the portal (its log is the cluster's own)")
    if container.status == Container.Status.REMOVED:
        raise _gone(container)
    if not container.docker_id or container.node is None:
        raise ServiceError(
            "no_logs", f"{container.name} has not started on a node, so it has no log yet.", http_status=409
        )


def _gone(container: Container) -> ServiceError:
    return ServiceError("no_logs", f"{container.name} was removed from its node, and its log with it.", http_status=409)


def container_logs_read(*, container: Container, tail: int, since: str | None = None) -> list[dict]:
    """In a worker: the last `tail` lines (after `since`), oldest first, secret values masked."""
    _check_readable(container)
    endpoint = container.placed_node().docker
    seconds = int(datetime.fromisoformat(since[:19]).replace(tzinfo=UTC).timestamp()) if since else 0
    # Docker takes a positive Unix time: a time before 1970 asks for every line, as no `since` does
    try:
        rows = engine_logs.container_logs(
            endpoint, container.docker_id, tail=tail, since=seconds if seconds > 0 else None
        )
    except EngineError as error:
        if error.code == "not_found":  # removed outside the portal: the events follower marks it so
            raise _gone(container) from error
        raise
    secrets = secret_values(container, engine_logs.container_env(endpoint, container.docker_id)) if rows else []
    lines = sorted(
        ({"time": docker_stamp(t), "stream": s, "line": masked(text, secrets)} for t, s, text in rows),
        key=lambda row: row["time"],
    )
    if since:
        lines = [row for row in lines if row["time"] > since]
    return lines[-tail:]


def container_logs(*, tenant, container: Container, query: LogQuery, timeout: float) -> dict:
    """The lines a worker read (held up to FOLLOW_SECONDS for new ones when following) and the `since` to
    ask with next. A worker that does not answer raises (queue.worker_answer turns it into a 503)."""
    _check_readable(container)  # a system container: a sentence, never its lines
    if container.tenant_id != tenant.pk:
        raise not_found("container")
    deadline = time.monotonic() + FOLLOW_SECONDS
    while True:
        lines = queue.ask(queue.CONTAINER_LOGS, container.pk, query.tail, query.since, timeout=timeout)
        if lines or not query.follow or time.monotonic() + FOLLOW_POLL_SECONDS > deadline:
            break
        time.sleep(FOLLOW_POLL_SECONDS)
    next_since = lines[-1]["time"] if lines else query.since
    if not query.timestamps:
        lines = [{**row, "time": None} for row in lines]
    return {"container": container.name, "lines": lines, "next_since": next_since}


def logs_as_text(answer: dict) -> str:
    """The lines as `docker logs [--timestamps]` prints them, for a download."""
    return "".join(f"{row['time'] + ' ' if row['time'] else ''}{row['line']}\n" for row in answer["lines"])
