"""DNS and reachability checks run inside a tenant's container, as users check by hand.

The checks run in a worker (web requests never call Docker): `container_diagnose` validates,
hands the work to the worker and waits for its answer.
"""

from __future__ import annotations

import re

from networks.engine import docker as docker_engine
from networks.models import Container
from plumbing.errors import ServiceError, not_found

from . import queue
from .protection import check_not_system

HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")
TIMEOUT_SECONDS = 3


def _check_request(container: Container, target: str, port: int | None) -> tuple[str, int | None]:
    check_not_system(container, "used for diagnostics")
    if container.status != Container.Status.RUNNING:
        raise ServiceError(
            "not_running", f"{container.name} is not running; start it to run checks from it.", http_status=409
        )
    target = (target or "").strip()
    if not HOSTNAME.match(target):
        raise ServiceError("bad_target", f'"{target}" is not a container name or host name.', field="target")
    if port in ("", None):
        port = None
    else:
        try:
            port = int(port)
        except (TypeError, ValueError):
            port = 0
        if not 1 <= port <= 65535:
            raise ServiceError("bad_port", "The port is a number from 1 to 65535.", field="port")
    return target, port


def resolved_addresses(output: str) -> list[str]:
    """The addresses in busybox `nslookup` output after the answer's `Name:` line (not the server's)."""
    _, _, answer = output.partition("Name:")
    return re.findall(r"^Address(?: \d+)?:\s*([0-9.]+)\s*$", answer, flags=re.MULTILINE)


def container_diagnose_run(*, container: Container, target: str, port: int | None = None) -> dict:
    """Run nslookup (and nc -z for a port) inside the container; report each command and its output."""
    target, port = _check_request(container, target, port)
    endpoint = container.placed_node().docker
    checks = []
    command = ["nslookup", target]
    code, output = docker_engine.exec_in_container(endpoint, container.docker_id, command)
    addresses = resolved_addresses(output) if code == 0 else []
    checks.append(
        {
            "kind": "dns",
            "command": " ".join(command),
            "exit_code": code,
            "output": output.strip(),
            "ok": bool(addresses),
            "summary": f"{target} resolves to {', '.join(addresses)}"
            if addresses
            else f"{target} does not resolve from {container.name}: is it on one of {container.name}'s networks?",
            "addresses": addresses,
        }
    )
    if port is not None:
        # busybox nc has no -z: with no stdin it connects, sends nothing and exits 0 when the port answers.
        command = ["timeout", str(TIMEOUT_SECONDS + 2), "nc", "-w", str(TIMEOUT_SECONDS), target, str(port)]
        code, output = docker_engine.exec_in_container(endpoint, container.docker_id, command)
        checks.append(
            {
                "kind": "tcp",
                "command": " ".join(command),
                "exit_code": code,
                "output": output.strip(),
                "ok": code == 0,
                "summary": f"{target}:{port} answers"
                if code == 0
                else f"{target}:{port} does not answer within {TIMEOUT_SECONDS} s",
            }
        )
    return {
        "container": container.name,
        "target": target,
        "port": port,
        "ok": all(c["ok"] for c in checks),
        "checks": checks,
    }


def container_diagnose(*, tenant, container: Container, target: str, port=None, timeout: float = 30) -> dict:
    if container.tenant_id != tenant.pk and not container.is_system:
        raise not_found("container")
    target, port = _check_request(container, target, port)
    return queue.ask(queue.CONTAINER_DIAGNOSE, container.pk, target, port, timeout=timeout)
