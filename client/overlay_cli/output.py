"""What the client prints: docker-like tables, JSON for scripts, ids with -q, and the wait for an operation."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console

from .api import Api, ApiError
from .types import Operation

FINISHED = ("succeeded", "failed")
POLL_SECONDS = 0.5  # between reads of a batch's operations, and of one from a portal that does not hold answers
HOLD_SECONDS = 30  # how long the portal holds a read of one operation until it changes


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=4, ensure_ascii=False))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Columns padded to their widest cell, headers in capitals: as docker prints them."""
    cells = [[str(header) for header in headers]] + [
        ["" if cell is None else str(cell) for cell in row] for row in rows
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    for row in cells:
        click.echo("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1000
    return f"{size:.1f}GB"


def human_duration(seconds: float) -> str:
    """A duration as docker says it (go-units' HumanDuration): "Less than a second", "About a minute",
    "3 hours", "2 weeks"; hours are rounded, everything else cut down."""
    if (whole := int(seconds)) < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    if (minutes := whole // 60) == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    if (hours := int(seconds / 3600 + 0.5)) == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{whole // 3600 // 24 // 365} years"


def since(timestamp: str, now: datetime | None = None) -> str:
    """How long it is since an ISO 8601 time of the portal's, as docker says it: "5 minutes"."""
    then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return human_duration(max(0.0, ((now or datetime.now(UTC)) - then).total_seconds()))


def ago(timestamp: str, now: datetime | None = None) -> str:
    """`docker ps`'s CREATED: "5 minutes ago"."""
    return since(timestamp, now) + " ago"


def describe(operation: Operation) -> str:
    """One line: the operation's latest step, a pull's layers and bytes, or what it waits for."""
    parts = [f"{operation['kind']} {operation['target']}: {operation['status']}"]
    transfer = operation.get("transfer")
    if transfer and transfer["layers_total"]:
        parts.append(
            f"pulling {transfer['image']} {transfer['layers_done']}/{transfer['layers_total']} layers, "
            f"{human_bytes(transfer['bytes_done'])}/{human_bytes(transfer['bytes_total'])}"
        )
    if operation["progress"]:
        parts.append(operation["progress"][-1]["message"])
    elif operation.get("waiting_for"):
        parts.append(operation["waiting_for"])
    return " · ".join(parts)


def wait(api: Api, operation: Operation, *, timeout: float = 600) -> Operation:
    """Follow an operation to its end; a progress line on stderr when it is a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        return _followed(api, operation, timeout, lambda operation: None)
    with console.status(describe(operation)) as status:
        return _followed(api, operation, timeout, lambda operation: status.update(describe(operation)))


def _followed(api: Api, operation: Operation, timeout: float, show) -> Operation:
    """Each change of the operation as the portal tells it (a read it holds until the operation is no longer
    the answer last read: its ETag in If-None-Match), until it ends or `timeout` passes."""
    deadline, tag, reads = time.monotonic() + timeout, "", 0
    while operation["status"] not in FINISHED and (left := deadline - time.monotonic()) > 0:
        if not tag and reads:  # a portal that sends no ETag: read again after a pause
            time.sleep(min(POLL_SECONDS, left))
        changed, tag = api.operation_changed(operation["id"], tag, wait=min(HOLD_SECONDS, left))
        reads += 1
        if changed is not None:
            operation = changed
            show(operation)
    if operation["status"] not in FINISHED:
        raise ApiError(
            f"Operation {operation['id']} has not finished after {timeout:.0f} s: "
            f"follow it with `overlay ops {operation['id']} --follow`."
        )
    if operation["status"] == "failed":
        raise ApiError(operation.get("error") or f"Operation {operation['id']} failed.")
    return operation


def wait_all(api: Api, operations: list[Operation], *, timeout: float = 600) -> list[Operation]:
    """Follow many operations to their ends: a read of the first still unfinished, held by the portal until it
    has ended, then one request for those still unfinished (by their ids), a round at a time; each one as it
    ended, in order (a failed one carries its `error`). A portal that holds no reads is asked every
    POLL_SECONDS."""
    pending = [operation["id"] for operation in operations if operation["status"] not in FINISHED]
    deadline = time.monotonic() + timeout
    while pending and (left := deadline - time.monotonic()) > 0:
        first, held = api.operation_ended(pending[0], wait=min(HOLD_SECONDS, left))
        if not held and first["status"] not in FINISHED:
            time.sleep(min(POLL_SECONDS, left))
        pending = [operation["id"] for operation in api.operations(pending, unfinished=True)]
    if pending:
        raise ApiError(
            f"{len(pending)} operations have not finished after {timeout:.0f} s: "
            f"follow them with `overlay ops {pending[0]} --follow`."
        )
    ended = {operation["id"]: operation for operation in api.operations([operation["id"] for operation in operations])}
    return [ended[operation["id"]] for operation in operations]


def finish(api: Api, operation: Operation, *, detach: bool, result: str | int | None = None) -> None:
    """--detach prints the operation's id at once; else wait, then print the result (a name or an id)."""
    if detach:
        click.echo(operation["id"])
        return
    done = wait(api, operation)
    if result:
        click.echo(result)
    elif result is None and (done.get("network") or done.get("container")):
        click.echo(done.get("network") or done.get("container"))


def stderr(message: str) -> None:
    click.echo(message, err=True)


def is_terminal() -> bool:
    return sys.stdout.isatty()
