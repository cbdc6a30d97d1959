"""A container's state as Docker reports it, kept in its row: running or exited, its published ports
(and the Consul service they make), answered as `docker port` does, and followed when it changes outside."""

from __future__ import annotations

from datetime import datetime

from networks.engine import consul as consul_engine
from networks.engine import docker as docker_engine
from networks.models import Container
from plumbing.errors import ServiceError

from ..endpoints import endpoint_remove


def published_ports_of(attrs: dict) -> list[dict]:
    """Docker's published ports, one row per host binding, IPv4 only (as `docker port` lists them)."""
    rows = []
    for port, bindings in sorted(((attrs.get("NetworkSettings") or {}).get("Ports") or {}).items()):
        for binding in bindings or []:
            if ":" in (binding.get("HostIp") or ""):
                continue
            rows.append({"port": port, "host_ip": binding.get("HostIp") or "0.0.0.0", "host_port": binding["HostPort"]})
    return rows


def docker_state_of(attrs: dict) -> dict:
    """Docker's State as a row keeps it: running or exited, when it last started and stopped (Docker's zero
    time, 0001-01-01, is none), and its exit code once it has stopped."""
    state = attrs.get("State") or {}
    finished = docker_time(state.get("FinishedAt"))
    return {
        "status": Container.Status.RUNNING if state.get("Running") else Container.Status.EXITED,
        "started_at": docker_time(state.get("StartedAt")),
        "finished_at": finished,
        "exit_code": state.get("ExitCode") if finished is not None else None,
    }


def docker_time(text: str | None) -> datetime | None:
    """One of Docker's RFC 3339 times (nanoseconds cut to microseconds), or None for its zero time or none."""
    if not text or text.startswith("0001-"):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def container_record_state(container: Container, attrs: dict) -> None:
    """Copy Docker's inspect into the row (id, running or exited and since when, published ports) and follow it
    in Consul."""
    container.docker_id = attrs["Id"]
    for name, value in docker_state_of(attrs).items():
        setattr(container, name, value)
    running = container.status == Container.Status.RUNNING
    container.published_ports = published_ports_of(attrs) if running else container.published_ports
    container.save(update_fields=["docker_id", *DOCKER_STATE_FIELDS, "environment", "published_ports", "updated"])
    container_sync_service(container)


DOCKER_STATE_FIELDS = ["status", "started_at", "finished_at", "exit_code"]


def _agent_address(container: Container) -> str:
    return f"http://{container.placed_node().address}:8500"


def container_sync_service(container: Container) -> None:
    """A running container with published ports is a Consul service on its node's agent; otherwise not."""
    if container.is_system or container.node is None:
        return
    service_id = f"overlay-portal-{container.cluster.uid}-{container.pk}"
    if container.status == Container.Status.RUNNING and container.published_ports:
        first = container.published_ports[0]
        assert container.tenant is not None  # a constraint: every container but the system ones has a team
        consul_engine.service_register(
            _agent_address(container),
            service_id=service_id,
            name=container.name,
            service_address=container.node.address,
            port=int(first["host_port"]),
            tags=[f"tenant={container.tenant.slug}", *(f"port={p['port']}" for p in container.published_ports)],
        )
    else:
        consul_engine.service_deregister(_agent_address(container), service_id)


def container_port_query(*, container: Container, port: str = "") -> list[str]:
    """Answer like `docker port CONTAINER [PORT]`: NODE_ADDRESS:HOST_PORT lines, or Docker's own error."""
    address = container.node.address if container.node else "0.0.0.0"
    port = (port or "").strip()
    if not port:
        return [f"{p['port']} -> {address}:{p['host_port']}" for p in container.published_ports]
    spec = port if "/" in port else f"{port}/tcp"
    matches = [p for p in container.published_ports if p["port"] == spec]
    if not matches:
        raise ServiceError(
            "no_public_port", f"Error: No public port '{spec}' published for {container.name}", http_status=404
        )
    return [f"{address}:{p['host_port']}" for p in matches]


def container_refresh(*, container: Container) -> str | None:
    """Follow the cluster: copy the container's state from Docker; mark it removed when Docker lost it."""
    if not container.docker_id or container.node is None or container.status in (Container.Status.REMOVED,):
        return None
    attrs = docker_engine.inspect_container(container.node.docker, container.docker_id)
    if attrs is None:
        for endpoint in container.endpoints.select_related("network", "container__node"):
            endpoint_remove(endpoint=endpoint, force=True, in_docker=False)
        container.status = Container.Status.REMOVED
        container.save(update_fields=["status", "updated"])
        container_sync_service(container)
        return f"Container {container.name} was removed outside the portal: marked gone."
    before = (container.status, container.published_ports)
    container_record_state(container, attrs)
    if before != (container.status, container.published_ports):
        return f"Container {container.name} is now {container.get_status_display().lower()}."
    return None
