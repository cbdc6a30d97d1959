"""A container's logs and environment as Docker holds them, for the logs a worker reads (`docker logs`)."""

from __future__ import annotations

from .docker import client, inspect_container
from .endpoints import DockerEndpoint
from .refusals import translated


def container_logs(
    endpoint: DockerEndpoint | str, container: str, *, tail: int, since: int | None = None
) -> list[tuple[str, str, str]]:
    """`docker logs --timestamps --tail N [--since T]`: (Docker's timestamp, stream, text) per line, each
    stream read on its own (Docker merges them otherwise) and both put in time order; the last `tail`."""
    rows: list[tuple[str, str, str]] = []
    with translated():
        handle = client(endpoint).containers.get(container)
        for stream in ("stdout", "stderr"):
            raw = handle.logs(
                stdout=stream == "stdout", stderr=stream == "stderr", timestamps=True, tail=tail, since=since
            )
            for entry in raw.decode("utf-8", errors="replace").splitlines():
                stamp, _, text = entry.partition(" ")
                rows.append((stamp, stream, text))
    return rows


def container_env(endpoint: DockerEndpoint | str, container: str) -> dict[str, str]:
    """The container's environment as Docker holds it (Config.Env), NAME -> value."""
    attrs = inspect_container(endpoint, container) or {}
    pairs = (item.partition("=") for item in (attrs.get("Config") or {}).get("Env") or [])
    return {name: value for name, _, value in pairs}
