"""What a run asks for, read from what people typed: container names, published ports, environment
variables and restart policies; and the environment as anyone may see it, secret values masked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from networks.models import Container
from plumbing.errors import ServiceError

CONTAINER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PORT_SPEC = re.compile(r"^(?:(?P<host>\d{1,5}):)?(?P<container>\d{1,5})(?:/(?P<protocol>tcp|udp))?$")
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
MASK = "••••••"


@dataclass(frozen=True)
class PublishedPort:
    host: int | None
    container: int
    protocol: str

    @property
    def key(self) -> str:
        return f"{self.container}/{self.protocol}"


def parse_ports(specs: list[str]) -> list[PublishedPort]:
    """`HOST:CONTAINER[/tcp|udp]` or `CONTAINER[/proto]` (any free host port), as `docker run --publish`."""
    ports, seen = [], set()
    for spec in specs or []:
        spec = (spec or "").strip()
        if not spec:
            continue
        match = PORT_SPEC.match(spec)
        if not match:
            raise ServiceError(
                "bad_port",
                f'"{spec}" is not a port mapping. Write HOST:CONTAINER, such as 8080:80 or 53:53/udp.',
                field="ports",
            )
        host = int(match["host"]) if match["host"] else None
        container = int(match["container"])
        for number in (host, container):
            if number is not None and not 1 <= number <= 65535:
                raise ServiceError("bad_port", f'"{spec}": ports are numbers from 1 to 65535.', field="ports")
        port = PublishedPort(host, container, match["protocol"] or "tcp")
        if port.key in seen:
            raise ServiceError("duplicate_port", f"Container port {port.key} is published twice.", field="ports")
        seen.add(port.key)
        ports.append(port)
    return ports


def parse_environment(items: list[dict]) -> list[dict]:
    env, seen = [], set()
    for index, item in enumerate(items or []):
        name = (item.get("name") or "").strip()
        if not name:
            continue
        if not ENV_NAME.match(name):
            raise ServiceError(
                "bad_env",
                f'"{name}" is not a valid environment variable name (letters, digits, underscores).',
                field="environment",
                item=index,
            )
        if name in seen:
            raise ServiceError("duplicate_env", f"{name} is set twice.", field="environment", item=index)
        seen.add(name)
        env.append({"name": name, "value": str(item.get("value") or ""), "secret": bool(item.get("secret"))})
    return env


def masked_environment(container: Container) -> list[dict]:
    """The environment as anyone may see it: names, plain values, secret values masked."""
    return [
        {"name": e["name"], "value": MASK if e.get("secret") else e.get("value", ""), "secret": bool(e.get("secret"))}
        for e in container.environment
    ]
