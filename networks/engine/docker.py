"""Adapter over the docker SDK: one `DockerClient` per node endpoint (over mutual TLS), errors translated."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import docker
import docker.errors
import docker.tls
import requests.exceptions

from .endpoints import DockerEndpoint, TlsCredentials, docker_endpoint_of
from .errors import ClusterUnavailable, EngineError, StateStoreUnavailable

DEFAULT_TIMEOUT = 30
MIN_API_VERSION = "1.24"  # the oldest the SDK speaks; the portal asks for more (settings.DOCKER_MIN_API_VERSION)


@dataclass(frozen=True)
class SwarmNode:
    id: str
    hostname: str
    role: str
    state: str
    availability: str
    address: str


IMAGE_UNAVAILABLE = (
    "The image is not on that node and its registry could not give it: check the image's name and tag "
    "(the run form lists the images the cluster and its registry have)."
)


@dataclass(frozen=True)
class Refusal:
    """One kind of Docker refusal: any of `patterns` (lower case; a tuple inside means all of them)
    found in Docker's message makes it `code`, told as `sentence`."""

    patterns: tuple[str | tuple[str, ...], ...]
    code: str
    sentence: str
    error: type[EngineError] = EngineError

    def matches(self, lowered: str) -> bool:
        return any(
            all(part in lowered for part in pattern) if isinstance(pattern, tuple) else pattern in lowered
            for pattern in self.patterns
        )


# First match wins. tests/networks/engine/test_docker_errors.py has a message recorded from the real
# engine for every row.
REFUSALS = (
    Refusal(
        ("pool overlaps", "overlaps with other one"),
        "pool_overlaps",
        "Docker refused the subnet because it overlaps a network the cluster already has. "
        "Ask the portal to reconcile the cluster, then create the network again.",
    ),
    Refusal(
        ("already exists", "already in use by container"),
        "name_exists",
        "A network or container with that name already exists on the cluster. Pick another name.",
    ),
    Refusal(
        ("active endpoints",),
        "active_endpoints",
        "Containers are still attached to the network. Disconnect them first, or remove with disconnect.",
    ),
    Refusal(
        ("unauthorized", "authentication required", "no basic auth credentials"),
        "registry_login",
        "The image's registry asks for a login. Add your team's credentials for that registry "
        "(Registry logins, in the menu), then run it again.",
    ),
    Refusal(("pull access denied", "manifest", "registry", "no such image"), "image_unavailable", IMAGE_UNAVAILABLE),
    Refusal(
        ("could not allocate ip", "no available ip", ("ipam", "in use")),
        "address_in_use",
        "That address is already used on the network (Docker also gives one to each node's load "
        "balancer). Pick another address, or leave it empty to get the next free one.",
    ),
    Refusal(
        ("address already in use", "port is already allocated"),
        "port_in_use",
        # the last line of defence: services/ports.py refuses the ports it knows of before anything runs
        "That host port is already in use on the node, by a container or by a program the node runs "
        "outside the portal. Pick another host port.",
    ),
    Refusal(
        ("error getting pools config from store", "datastore"),
        "state_store_unavailable",
        "",  # StateStoreUnavailable says it, and makes the operation wait and retry
        StateStoreUnavailable,
    ),
)


# The handshake's failures, as OpenSSL words them (refusals of the connection itself);
# tests/networks/services/test_cluster_registration.py meets them on the real cluster. First match wins.
TLS_FAILURES = (
    Refusal(
        ("hostname mismatch", "ip address mismatch", "doesn't match", "not valid for"),
        "tls_host_mismatch",
        "The engine's certificate is not issued for the address in DOCKER_HOST. Use the address or host name "
        "the cluster's certificates name (the one in the bundle's docker.env).",
    ),
    Refusal(
        ("certificate has expired",),
        "tls_server_expired",
        "The engine's own certificate has expired. Ask the cluster's operator to renew the nodes' certificates.",
    ),
    Refusal(
        ("certificate is not yet valid",),
        "tls_server_not_yet_valid",
        "The engine's own certificate is not valid yet: check the clocks of this machine and of the cluster.",
    ),
    Refusal(
        (
            "unable to get local issuer",
            "self-signed certificate",
            "self signed certificate",
            "unknown ca certificate",
            "certificate verify failed",
        ),
        "tls_wrong_ca",
        "The engine's certificate is not signed by the bundle's CA (ca.pem): the bundle belongs to another "
        "cluster, or its ca.pem is not the one that signed the nodes. Download the cluster's bundle again.",
    ),
    Refusal(
        ("alert certificate expired",),
        "tls_client_expired",
        "The engine refused the bundle's client certificate (cert.pem) because it has expired. Download a new bundle.",
    ),
    Refusal(
        (
            "alert unknown ca",
            "alert bad certificate",
            "certificate required",
            "alert certificate unknown",
            "alert decrypt error",
            "alert handshake failure",
            "eof occurred in violation of protocol",
        ),
        "tls_client_refused",
        "The engine refused the bundle's client certificate (cert.pem): the cluster's CA did not sign it, or it has expired. "
        "Download the cluster's bundle again.",
    ),
    Refusal(
        ("http request to an https server",),
        "tls_required",
        "The engine answers only over TLS. Register it with its bundle (docker.env, ca.pem, cert.pem, key.pem).",
    ),
    Refusal(
        ("wrong version number", "record layer failure"),
        "tls_not_spoken",
        "The engine does not speak TLS at that address: check the port in DOCKER_HOST (2376 is Docker's TLS port).",
    ),
)


UNREACHABLE = ("connection refused", "failed to establish a new connection", "timed out", "no route to host")


def tls_failure(text: str) -> Refusal | None:
    lowered = text.lower()
    return next((f for f in TLS_FAILURES if f.matches(lowered)), None)


def translate(exc: Exception) -> EngineError:
    """Turn a docker SDK or transport exception into a sentence the user can act on."""
    if isinstance(exc, EngineError):
        return exc
    failure = tls_failure(str(exc)) if _is_tls_failure(exc) else None
    if failure is not None:  # not worth retrying: the credentials are wrong until someone changes them
        return EngineError(failure.sentence, code=failure.code, raw=str(exc))
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return ClusterUnavailable(raw=str(exc))
    if isinstance(exc, docker.errors.ImageNotFound):
        return EngineError(IMAGE_UNAVAILABLE, code="image_unavailable", raw=str(exc))
    if isinstance(exc, docker.errors.NotFound) and "manifest" in str(exc.explanation or exc).lower():
        return EngineError(IMAGE_UNAVAILABLE, code="image_unavailable", raw=str(exc))  # no such image or tag
    if isinstance(exc, docker.errors.NotFound):
        return EngineError(f"Docker could not find it: {exc.explanation}", code="not_found", raw=str(exc))
    if not isinstance(exc, docker.errors.APIError):
        if any(mark in str(exc).lower() for mark in UNREACHABLE):  # the SDK's own wrapping of a transport error
            return ClusterUnavailable(raw=str(exc))
        return EngineError(f"Unexpected error talking to Docker: {exc}", raw=str(exc))
    text = str(exc.explanation or exc)
    refusal = next((r for r in REFUSALS if r.matches(text.lower())), None)
    if refusal is None:
        return EngineError(f"Docker refused the request: {text}", raw=text)
    if refusal.error is StateStoreUnavailable:
        return StateStoreUnavailable(raw=text)
    return refusal.error(refusal.sentence, code=refusal.code, raw=text)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise translate(exc) from exc


def _is_tls_failure(exc: Exception) -> bool:
    """An SSL error, also as the SDK wraps it ("Error while fetching server API version: ... SSLError")."""
    text = str(exc).lower()
    return isinstance(exc, requests.exceptions.SSLError) or any(
        mark in text for mark in ("sslerror", "[ssl", "http request to an https server")
    )


@functools.lru_cache(maxsize=64)
def pem_files(tls: TlsCredentials) -> tuple[str, str, str]:
    """The three PEMs as paths the SDK can load, each an anonymous in-memory file (memfd) that lives
    as long as the process: the private key is never written to a disk."""
    paths = []
    for name, text in (("ca", tls.ca_pem), ("cert", tls.cert_pem), ("key", tls.key_pem)):
        fd = os.memfd_create(f"overlay-portal-{name}", os.MFD_CLOEXEC)
        os.write(fd, text.encode())
        paths.append(f"/proc/self/fd/{fd}")
    return paths[0], paths[1], paths[2]


@dataclass(frozen=True)
class CallTimes:
    """One thread's Docker calls (time.monotonic()): since when it waits on one; when one last answered."""

    waiting_since: float | None
    answered_at: float | None


_waiting: dict[int, float] = {}  # thread -> start of the HTTP request it waits on
_answered: dict[int, float] = {}  # thread -> when its last HTTP request was answered


def calls_of(thread: int) -> CallTimes:
    """How `thread`'s Docker calls stand, for a watcher in another thread (services/watch.py)."""
    return CallTimes(_waiting.get(thread), _answered.get(thread))


def _timed(send):
    """The client's `send`, noting per thread when a request is sent and when it is answered."""

    @functools.wraps(send)
    def timed_send(request, **kwargs):
        thread = threading.get_ident()
        _waiting[thread] = time.monotonic()
        try:
            response = send(request, **kwargs)
        finally:
            _waiting.pop(thread, None)
        _answered[thread] = time.monotonic()
        return response

    return timed_send


@functools.lru_cache(maxsize=64)
def client(endpoint: DockerEndpoint | str, timeout: int = DEFAULT_TIMEOUT) -> docker.DockerClient:
    """A cached client per endpoint (and credentials); the SDK negotiates the API version with the engine."""
    endpoint = docker_endpoint_of(endpoint)
    tls = None
    if endpoint.tls is not None:
        ca, cert, key = pem_files(endpoint.tls)
        tls = docker.tls.TLSConfig(client_cert=(cert, key), ca_cert=ca, verify=True)
    with translated():
        docker_client = docker.DockerClient(base_url=endpoint.url, version=MIN_API_VERSION, timeout=timeout, tls=tls)
        # The client is a requests session: with trust_env, REQUESTS_CA_BUNDLE would replace the bundle's CA
        # (requests #3829) and an HTTP(S)_PROXY would carry the cluster's traffic. Neither applies to a node.
        docker_client.api.trust_env = False
        docker_client.api.send = _timed(docker_client.api.send)
        docker_client.api._version = docker_client.api._retrieve_server_version()  # what "auto" does
        return docker_client


def ping(endpoint: DockerEndpoint | str) -> bool:
    try:
        with translated():
            return bool(client(endpoint).ping())
    except EngineError:
        return False


def network_is_broken(attrs: dict) -> bool:
    """A swarm network the manager accepted but could not build (no driver, no address configuration).

    Swarm accepts an overlay whose subnet overlaps another one and leaves it like this (swarmkit #2398).
    """
    return attrs.get("Scope") == "swarm" and (not attrs.get("Driver") or not (attrs.get("IPAM") or {}).get("Config"))


def parse_listening(netstat: str) -> list[tuple[int, str]]:
    """(port, protocol) pairs from `netstat -lntu` output (busybox or net-tools), IPv4 and IPv6 alike."""
    found = set()
    for line in netstat.splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[0].rstrip("6") not in ("tcp", "udp"):
            continue
        port = parts[3].rpartition(":")[2]
        if port.isdigit():
            found.add((int(port), parts[0].rstrip("6")))
    return sorted(found)


def listening_ports(endpoint: DockerEndpoint | str, *, image: str, labels: dict[str, str]) -> list[tuple[int, str]]:
    """The ports programs of the node itself listen on: `netstat -lntu` in a throw-away container on the
    node's own network (`--network host`), from an image the node has."""
    with translated():
        output = client(endpoint).containers.run(
            image, ["netstat", "-lntu"], network_mode="host", remove=True, labels=labels
        )
    return parse_listening(output.decode(errors="replace"))


@dataclass(frozen=True)
class EngineFacts:
    """What an engine says of itself when first met: its API version and its place in a swarm."""

    api_version: str
    swarm_state: str  # "active" in a swarm; "inactive", "pending", "error", "locked" otherwise
    is_manager: bool
    swarm_id: str
    node_id: str
    consul_containers: tuple[str, ...]  # names of containers on it that look like a Consul agent


def engine_facts(endpoint: DockerEndpoint | str) -> EngineFacts:
    """Meet an engine: /version, /info and its Consul containers (label overlay-portal.role=consul, or a
    consul image), each failure translated (TLS, refused connection, ...)."""
    with translated():
        docker_client = client(endpoint, timeout=15)
        version = docker_client.version()
        info = docker_client.info()
        swarm = info.get("Swarm") or {}
        consul = [
            c.name
            for c in docker_client.containers.list()
            if c.labels.get("overlay-portal.role") == "consul" or "consul" in " ".join(c.image.tags or [])
        ]
    return EngineFacts(
        api_version=version.get("ApiVersion", ""),
        swarm_state=swarm.get("LocalNodeState", "") or "inactive",
        is_manager=bool(swarm.get("ControlAvailable")),
        swarm_id=(swarm.get("Cluster") or {}).get("ID", ""),
        node_id=swarm.get("NodeID", ""),
        consul_containers=tuple(consul),
    )


def swarm_nodes(manager_endpoint: DockerEndpoint | str) -> list[SwarmNode]:
    with translated():
        nodes = client(manager_endpoint).nodes.list()
    result = []
    for node in nodes:
        attrs = node.attrs
        result.append(
            SwarmNode(
                id=attrs["ID"],
                hostname=attrs["Description"]["Hostname"],
                role=attrs["Spec"]["Role"],
                state=attrs["Status"]["State"],
                availability=attrs["Spec"].get("Availability", ""),
                address=_node_address(attrs),
            )
        )
    return result


def _node_address(attrs: dict) -> str:
    """The node's address; a manager may report 0.0.0.0 there (moby #35437): its manager address says it."""
    address = attrs["Status"].get("Addr", "")
    if address in ("", "0.0.0.0"):
        address = (attrs.get("ManagerStatus") or {}).get("Addr", "").rpartition(":")[0] or address
    return address


def create_overlay_network(
    manager_endpoint: DockerEndpoint | str,
    name: str,
    *,
    subnet: str,
    gateway: str,
    labels: dict[str, str],
    internal: bool = False,
    encrypted: bool = False,
) -> dict:
    """Create an attachable overlay network and return its `docker network inspect` attributes."""
    ipam_config = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet, gateway=gateway)])
    options = {"encrypted": ""} if encrypted else None
    with translated():
        # The low-level call: the SDK's networks.create would inspect it once more than network_allocated does.
        created = client(manager_endpoint).api.create_network(
            name,
            driver="overlay",
            attachable=True,
            internal=internal,
            ipam=ipam_config,
            labels=labels,
            options=options,
            check_duplicate=True,
        )
    return network_allocated(manager_endpoint, created["Id"])


ALLOCATION_WAIT = 5.0  # seconds a new swarm network may stay unallocated before it is taken as broken


def network_allocated(
    manager_endpoint: DockerEndpoint | str, network_id: str, *, wait: float = ALLOCATION_WAIT
) -> dict:
    """The network's attributes once the swarm's allocator has given it a driver and an address
    configuration, or as they are after `wait` seconds (then network_is_broken says so).

    Swarm allocates asynchronously: right after the create call a network can read as if broken for
    tens of milliseconds alone, for hundreds with dozens of creates at once (measured on the local
    cluster). One that overlaps another network stays so.
    """
    deadline, pause = time.monotonic() + wait, 0.005
    with translated():
        while True:
            attrs = client(manager_endpoint).api.inspect_network(network_id)
            if not network_is_broken(attrs) or time.monotonic() >= deadline:
                return attrs
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def find_networks(
    endpoint: DockerEndpoint | str, *, labels: list[str] | None = None, name: str | None = None, id: str | None = None
) -> list[dict]:
    """Networks matching every label (`key=value`), or a name, or an id, as `docker network ls` filters."""
    filters: dict[str, str | list[str]] = {}
    if labels:
        filters["label"] = labels
    if id:
        filters["id"] = id
    if name:
        filters["name"] = name
    with translated():
        return [net.attrs for net in client(endpoint).networks.list(filters=filters, greedy=False)]


def inspect_network(endpoint: DockerEndpoint | str, network_id: str) -> dict:
    with translated():
        return client(endpoint).networks.get(network_id).attrs


def remove_network(endpoint: DockerEndpoint | str, network_id: str) -> None:
    """Remove a network; a network already gone counts as removed."""
    try:
        with translated():
            client(endpoint).networks.get(network_id).remove()
    except EngineError as error:
        if error.code != "not_found":
            raise


def run_container(
    endpoint: DockerEndpoint | str,
    *,
    name: str,
    image: str,
    command: list[str] | str | None = None,
    network: str | None = None,
    aliases: list[str] | None = None,
    ipv4_address: str | None = None,
    labels: dict[str, str] | None = None,
    environment: dict[str, str] | None = None,
    ports: dict[str, int | None] | None = None,
    publish_all: bool = False,
    restart_policy: str = "no",
) -> dict:
    """Start a detached container on one node, attached to `network` with its address and aliases."""
    with translated():
        docker_client = client(endpoint)
        networking_config = None
        if network and (aliases or ipv4_address):
            networking_config = {
                network: docker_client.api.create_endpoint_config(
                    aliases=aliases or None, ipv4_address=ipv4_address or None
                )
            }
        container = docker_client.containers.run(
            image,
            command or None,
            name=name,
            detach=True,
            network=network,
            networking_config=networking_config,
            labels=labels or {},
            environment=environment or {},
            ports=ports or {},
            publish_all_ports=publish_all,
            restart_policy={"Name": restart_policy} if restart_policy and restart_policy != "no" else None,
        )
        container.reload()
        return container.attrs


@dataclass
class PullTally:
    """A pull as Docker streams it, summed up: each layer's state and bytes, and the totals.

    Docker sends one event per step of each layer ("Pulling fs layer", "Downloading" with
    progressDetail current/total, "Download complete", "Extracting", "Pull complete", or
    "Already exists"); this keeps what a person watching wants: layers done of all, bytes of bytes.
    """

    image: str
    layers: dict = field(default_factory=dict)  # id -> {"status", "current", "total"}
    error: str = ""

    DONE = ("Pull complete", "Already exists")

    def add(self, event: dict) -> None:
        if event.get("error"):
            self.error = str(event["error"])
            return
        layer_id, status = event.get("id"), event.get("status", "")
        if not layer_id or status.startswith(("Pulling from", "Digest:", "Status:")) or layer_id == self.tag:
            return
        layer = self.layers.setdefault(layer_id, {"status": "", "current": 0, "total": 0})
        layer["status"] = status
        detail = event.get("progressDetail") or {}
        if status == "Downloading" and detail.get("total"):
            layer["current"], layer["total"] = int(detail.get("current", 0)), int(detail["total"])
        elif status in ("Download complete", "Verifying Checksum", "Extracting", *self.DONE) and layer["total"]:
            layer["current"] = layer["total"]

    @property
    def tag(self) -> str:
        return self.image.rpartition(":")[2] if ":" in self.image.rpartition("/")[2] else "latest"

    def summary(self) -> dict:
        layers = self.layers.values()
        return {
            "image": self.image,
            "layers_total": len(self.layers),
            "layers_done": sum(1 for layer in layers if layer["status"] in self.DONE),
            "bytes_total": sum(layer["total"] for layer in layers),
            "bytes_done": sum(layer["current"] for layer in layers),
        }


def has_image(endpoint: DockerEndpoint | str, image: str) -> bool:
    with translated():
        try:
            client(endpoint).images.get(image)
        except docker.errors.ImageNotFound:
            return False
    return True


def pull_image(endpoint: DockerEndpoint | str, image: str, *, auth: dict | None = None, on_progress=None) -> PullTally:
    """Pull an image onto one node, telling `on_progress(tally)` after each event Docker streams."""
    repository, _, tag = image.rpartition(":") if ":" in image.rpartition("/")[2] else (image, "", "latest")
    tally = PullTally(image=image)
    with translated():
        for event in client(endpoint).api.pull(repository, tag=tag, stream=True, decode=True, auth_config=auth):
            tally.add(event)
            if tally.error:
                raise translate(docker.errors.APIError(tally.error))
            if on_progress is not None:
                on_progress(tally)
    return tally


def container_action(endpoint: DockerEndpoint | str, container: str, action: str, *, timeout: int = 10) -> dict | None:
    """stop, start or restart a container; returns its inspect attributes, or None when it is gone."""
    try:
        with translated():
            obj = client(endpoint).containers.get(container)
            if action == "start":
                obj.start()
            else:
                getattr(obj, action)(timeout=timeout)
            obj.reload()
            return obj.attrs
    except EngineError as error:
        if error.code == "not_found":
            return None
        raise


def list_images(endpoint: DockerEndpoint | str) -> list[str]:
    with translated():
        return sorted(tag for image in client(endpoint).images.list() for tag in image.tags)


def exec_in_container(endpoint: DockerEndpoint | str, container: str, command: list[str]) -> tuple[int, str]:
    with translated():
        result = client(endpoint).containers.get(container).exec_run(command, demux=False)
    output = result.output.decode("utf-8", errors="replace") if result.output else ""
    return result.exit_code, output


def remove_container(endpoint: DockerEndpoint | str, container: str, *, force: bool = True) -> None:
    try:
        with translated():
            client(endpoint).containers.get(container).remove(force=force)
    except EngineError as error:
        if error.code != "not_found":
            raise


def list_containers(endpoint: DockerEndpoint | str, *, all: bool = True, label: list[str] | None = None) -> list[dict]:
    """Containers of one node with their full inspect attributes, filtered by every `key=value` label."""
    filters = {"label": label} if label else {}
    with translated():
        return [c.attrs for c in client(endpoint).containers.list(all=all, filters=filters, sparse=False)]


def connect_container(
    endpoint: DockerEndpoint | str,
    network_id: str,
    container: str,
    *,
    aliases: list[str] | None = None,
    ipv4_address: str | None = None,
) -> None:
    """Attach a container, on the node it runs on, to a network (the low-level call works on swarm workers)."""
    with translated():
        client(endpoint).api.connect_container_to_network(
            container, network_id, aliases=aliases or None, ipv4_address=ipv4_address or None
        )


def disconnect_container(
    endpoint: DockerEndpoint | str, network_id: str, container: str, *, force: bool = False
) -> None:
    try:
        with translated():
            client(endpoint).api.disconnect_container_from_network(container, network_id, force=force)
    except EngineError as error:
        if error.code != "not_found" and "is not connected" not in error.raw:
            raise


def inspect_container(endpoint: DockerEndpoint | str, container: str) -> dict | None:
    try:
        with translated():
            return client(endpoint).api.inspect_container(container)
    except EngineError as error:
        if error.code == "not_found":
            return None
        raise


# A read on the event stream waits at most this long; a window of events is shorter than it.
EVENTS_READ_TIMEOUT = 90


def events(endpoint: DockerEndpoint | str, *, since: int, until: int) -> Iterator[dict]:
    """`docker events` for containers, networks and swarm nodes between two Unix times.

    The stream ends by itself at `until` (it may lie in the future: the engine holds the stream
    open until then), so a follower reads in windows and notices a dead node within one.
    """
    with translated():
        stream = client(endpoint, timeout=EVENTS_READ_TIMEOUT).api.events(
            since=since, until=until, filters={"type": ["container", "network", "node"]}, decode=True
        )
        try:
            yield from stream
        finally:
            stream.close()


def network_on_node(endpoint: DockerEndpoint | str, network_id: str) -> dict | None:
    """The network as one node sees it (its local containers), or None where it is not instantiated."""
    try:
        with translated():
            return client(endpoint).api.inspect_network(network_id)
    except EngineError as error:
        if error.code == "not_found":
            return None
        raise
