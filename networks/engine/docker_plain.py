"""A network's create and inspect sent to Docker over a kept-alive `http.client` connection of the thread's own.

Every network create makes two Docker calls (the create, then the inspect that tells what the swarm built:
services/builds.py). Through the docker SDK each went through requests and urllib3 (a session's preparation,
an adapter, a connection pool, a response object, its headers in a case-insensitive dict): about 2 ms of CPU
a call, most of a worker's Docker share of a create. Here the request is the same on the wire (the SDK's
path under the API version it negotiated, its User-Agent, its JSON body: docker.py builds the body as the
SDK does) over the same mutual TLS (the cluster's bundle, the engine's certificate checked against its CA
and the address), and the answer is judged as the SDK judges it: a refusal raises the SDK's own exception,
made from the answer by `docker.errors.create_api_error_from_http_exception`, and a transport failure the
requests exception the SDK would have raised, so `refusals.translated` makes the same `EngineError` of
either. A connection the engine closed while it sat idle is seen before it is reused (readable with
nothing asked, as urllib3 checks) and opened anew; a request is never sent twice. Over tcp:// (TLS or
plain) and unix://; any other address goes through the SDK (docker.py).
"""

from __future__ import annotations

import functools
import http.client
import json
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

import docker.constants
import docker.errors
import requests
import requests.exceptions
from requests.structures import CaseInsensitiveDict

from .call_times import timed_call
from .endpoints import DockerEndpoint, TlsCredentials
from .kept_alive import kept_alive


@dataclass(frozen=True)
class Target:
    """Where a Docker engine's HTTP API is reached plainly: a host and port (over TLS when `tls` is given),
    or a unix socket's path."""

    host: str = ""
    port: int = 0
    tls: TlsCredentials | None = None
    socket_path: str = ""

    @property
    def base(self) -> str:
        """The URL an SDK client of the engine sends to (what a refusal's message names)."""
        if self.socket_path:
            return "http+docker://localhost"
        return f"{'https' if self.tls is not None else 'http'}://{self.host}:{self.port}"


@functools.lru_cache(maxsize=64)
def target_of(endpoint: DockerEndpoint) -> Target | None:
    """The engine's address as this module reaches it, or None for an address left to the SDK (ssh://...)."""
    parts = urllib.parse.urlsplit(endpoint.url)
    if parts.scheme == "unix":
        return Target(socket_path=parts.path)
    if parts.scheme in ("tcp", "http", "https") and parts.hostname:
        secure = endpoint.tls is not None
        return Target(parts.hostname, parts.port or (2376 if secure else 2375), endpoint.tls)
    return None


@functools.lru_cache(maxsize=64)
def tls_context(tls: TlsCredentials, cert: str, key: str) -> ssl.SSLContext:
    """Mutual TLS as the SDK speaks it with the bundle: the engine's certificate verified against the CA and
    matched to the address asked for, the client's certificate and key (paths, docker.pem_files) offered."""
    context = ssl.create_default_context(cadata=tls.ca_pem)
    context.load_cert_chain(cert, key)
    return context


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _connection(target: Target, timeout: float, pem: tuple[str, str] | None) -> http.client.HTTPConnection:
    """The thread's connection to the engine (kept_alive.py)."""

    def opened() -> http.client.HTTPConnection:
        if target.socket_path:
            return _UnixConnection(target.socket_path, timeout)
        if target.tls is not None and pem is not None:
            context = tls_context(target.tls, *pem)
            return http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=context)
        return http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    return kept_alive(target, opened)


def call(
    target: Target,
    method: str,
    path: str,
    *,
    body: dict | None = None,
    timeout: float,
    pem: tuple[str, str] | None = None,
) -> dict:
    """`method` `path` (the versioned path, as the SDK's `_url` makes it) with `body` as JSON; the answer's
    JSON. Raises what the SDK raises for the same answer or the same transport failure."""
    headers = {"User-Agent": docker.constants.DEFAULT_USER_AGENT}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection = _connection(target, timeout, pem)
    try:
        with timed_call():
            connection.request(method, path, body=data, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
    except BaseException as error:
        connection.close()
        _raise_as_requests(error, target)
        raise
    if answer.will_close:
        connection.close()
    if answer.status >= 400:
        _raise_refusal(target, path, answer, content)
    return json.loads(content)


def _raise_as_requests(error: BaseException, target: Target) -> None:
    """A transport failure as requests reports it to the SDK (a timeout, a TLS failure, a refused or
    broken connection); anything else (an interruption) is left as it is."""
    where = f"{target.base}: {error}"
    if isinstance(error, TimeoutError):
        raise requests.exceptions.ReadTimeout(where) from error
    if isinstance(error, ssl.SSLError):
        raise requests.exceptions.SSLError(where) from error
    if isinstance(error, (OSError, http.client.HTTPException)):
        raise requests.exceptions.ConnectionError(where) from error


def _raise_refusal(target: Target, path: str, answer: http.client.HTTPResponse, content: bytes) -> None:
    """The SDK's exception for a refusal (APIError, NotFound...), made from the answer as it makes it."""
    response = requests.Response()
    response.status_code, response.reason, response._content = answer.status, answer.reason, content
    response.url = f"{target.base}{path}"
    response.headers = CaseInsensitiveDict(answer.getheaders())
    response.encoding = "utf-8"
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as error:
        docker.errors.create_api_error_from_http_exception(error)
