"""Reaching a swarm with a bundle: what the manager and Consul say, or a sentence for each way it fails.

The web never calls a cluster: `cluster_connect_ask` has a worker connect (the key travels sealed)
and `cluster_connect_answer` is that worker's side.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from django.conf import settings

from networks.bundles import Bundle, bundle_open, bundle_seal
from networks.engine import ClusterUnavailable, EngineError
from networks.engine import consul as consul_engine
from networks.engine import nodes as nodes_engine
from networks.engine.endpoints import ConsulEndpoint, DockerEndpoint
from networks.services import queue
from plumbing.errors import ServiceError

CONSUL_HTTP_PORT = 8500  # Consul's HTTP API, on the manager (Carina ran an agent on every node)
# How long a page or the API waits for a worker to connect (the connect task's own limit is 50 s).
CONNECT_WAIT_SECONDS = 60


@dataclass(frozen=True)
class SwarmFound:
    """What connecting with a bundle read from the cluster: nothing here is typed by a person."""

    swarm_id: str
    api_version: str
    docker_host: str  # the manager DOCKER_HOST reached
    nodes: tuple[dict, ...]  # {"name", "address", "role", "docker_endpoint"}
    consul_address: str

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SwarmFound:
        return cls(**{**data, "nodes": tuple(data["nodes"])})


def cluster_connect(bundle: Bundle) -> SwarmFound:
    """Connect as the bundle says and read the swarm; a ServiceError with a sentence for each way it fails
    (TLS, nothing answering, not a manager, not in a swarm, Docker too old, Consul not answering)."""
    endpoint = DockerEndpoint(bundle.docker_host, bundle.tls)
    try:
        facts = nodes_engine.engine_facts(endpoint)
        nodes = nodes_engine.swarm_nodes(endpoint) if facts.is_manager else []
    except ClusterUnavailable as error:
        raise ServiceError(
            "cluster_unreachable",
            f"Nothing answers at {bundle.docker_host} ({_reason(error.raw)}). Check DOCKER_HOST in docker.env, "
            "that the cluster is up, and that this machine can reach it.",
            field="docker_host",
        ) from error
    except EngineError as error:
        raise ServiceError(error.code, f"{bundle.docker_host}: {error}", field="bundle") from error
    if _version(facts.api_version) < _version(settings.DOCKER_MIN_API_VERSION):
        raise ServiceError(
            "docker_too_old",
            f"The engine at {bundle.docker_host} speaks Docker API {facts.api_version}; the portal needs "
            f"{settings.DOCKER_MIN_API_VERSION} or newer. Upgrade Docker on the cluster's nodes.",
            field="docker_host",
        )
    if facts.swarm_state != "active":
        raise ServiceError(
            "not_in_swarm",
            f"The engine at {bundle.docker_host} is not in a swarm (its swarm state is {facts.swarm_state}). "
            "Run `docker swarm init` on it, or use the bundle of a cluster whose nodes form a swarm.",
            field="docker_host",
        )
    if not facts.is_manager:
        raise ServiceError(
            "not_a_manager",
            f"The engine at {bundle.docker_host} is a swarm worker, not a manager. Point DOCKER_HOST at one of "
            "the swarm's managers (`docker node ls` on a manager lists them).",
            field="docker_host",
        )
    port = urlsplit(bundle.docker_host).port
    found_nodes = tuple(
        {
            "name": node.hostname,
            "address": node.address,
            "role": node.role,
            "docker_endpoint": bundle.docker_host if node.id == facts.node_id else f"tcp://{node.address}:{port}",
        }
        for node in sorted(nodes, key=lambda n: n.hostname)
    )
    manager = next(node for node in found_nodes if node["docker_endpoint"] == bundle.docker_host)
    consul_address = f"http://{manager['address']}:{CONSUL_HTTP_PORT}"
    _consul_check(consul_address, bundle, facts)
    return SwarmFound(
        swarm_id=facts.swarm_id,
        api_version=facts.api_version,
        docker_host=bundle.docker_host,
        nodes=found_nodes,
        consul_address=consul_address,
    )


def _consul_check(address: str, bundle: Bundle, facts) -> None:
    where = (
        f"its agent runs on the manager as {', '.join(facts.consul_containers)}"
        if facts.consul_containers
        else "no Consul agent's container runs on the manager"
    )
    try:
        leader = consul_engine.leader(ConsulEndpoint(address, bundle.consul_token))
    except EngineError as error:
        raise ServiceError(
            "consul_unreachable",
            f"The swarm answers, but its Consul does not at {address} ({where}). The portal keeps the networks' "
            "state there: start the Consul agents on the nodes, then register again.",
            field="bundle",
        ) from error
    if not leader:
        raise ServiceError(
            "consul_no_leader",
            f"Consul answers at {address} but has no leader yet. Wait until its servers have elected one "
            "(`consul operator raft list-peers`), then register again.",
            field="bundle",
        )


def _reason(raw: str) -> str:
    lowered = raw.lower()
    for mark, reason in (("refused", "connection refused"), ("timed out", "timed out"), ("no route", "no route")):
        if mark in lowered:
            return reason
    return "no answer"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2]) or (0,)


def cluster_connect_ask(bundle: Bundle, *, timeout: float) -> SwarmFound:
    """Have a worker connect with the bundle (the web never calls the cluster). The key travels sealed."""
    answer = queue.ask(queue.CLUSTER_CONNECT, bundle_seal(bundle), timeout=timeout)
    if not answer["ok"]:
        raise ServiceError(answer["code"], answer["message"], field=answer.get("field"))
    return SwarmFound.from_dict(answer["found"])


def cluster_connect_answer(sealed: dict) -> dict:
    """The worker's side of cluster_connect_ask: an answer the result store may hold (no key in it)."""
    try:
        return {"ok": True, "found": cluster_connect(bundle_open(sealed)).as_dict()}
    except ServiceError as error:
        return {"ok": False, "code": error.code, "message": error.message, "field": error.field}
