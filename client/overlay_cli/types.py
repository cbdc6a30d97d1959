"""The API's shapes as the client uses them, written on the OpenAPI schema: request bodies
(components/schemas/*Request) and the fields the client reads from answers (components/schemas/*)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


# Request bodies (components/schemas/*Request)
class NetworkCreateBody(TypedDict, total=False):
    name: str
    subnet: str
    prefixlen: int
    gateway: str
    internal: bool
    encrypted: bool
    labels: dict[str, str]
    # issue 25 (`docker network create --ip-range --aux-address --opt mtu= --attachable`): sent only when given
    ip_range: str
    aux_addresses: dict[str, str]
    mtu: int
    attachable: bool


class NetworkAttachBody(TypedDict, total=False):
    network: str
    aliases: list[str]
    ipv4_address: str


class EnvironmentBody(TypedDict, total=False):
    name: str
    value: str
    secret: bool


class ContainerRunBody(TypedDict, total=False):
    name: str
    image: str
    command: list[str]
    networks: list[NetworkAttachBody]
    environment: list[EnvironmentBody]
    ports: list[str]
    publish_all: bool
    restart_policy: str
    node: str


class NetworkConnectBody(TypedDict, total=False):
    container: int
    aliases: list[str]
    ipv4_address: str


class NetworkDisconnectBody(TypedDict, total=False):
    container: int
    force: bool


class NetworkShareBody(TypedDict, total=False):
    tenant: str


class DiagnoseBody(TypedDict, total=False):
    target: str
    port: int


# Responses: the fields the client reads (components/schemas/*)
class Progress(TypedDict):
    at: str
    message: str


class Transfer(TypedDict):
    image: str
    layers_done: int
    layers_total: int
    bytes_done: int
    bytes_total: int


class Operation(TypedDict):
    id: int
    kind: str
    status: str
    waiting_for: str
    target: str
    network: int | None
    container: int | None
    progress: list[Progress]
    transfer: Transfer | None
    error: NotRequired[str]
    created: str


class ErrorDetail(TypedDict):
    code: str
    message: str


class NetworkBatchResult(TypedDict):
    """One network of `POST /api/v1/networks/batch/`'s answer: its operation, or why it was not made."""

    index: int
    name: str
    operation: Operation | None
    error: ErrorDetail | None


BatchResult = NetworkBatchResult


class NetworkEndpoint(TypedDict):
    container: int
    container_name: str


class Network(TypedDict):
    id: int
    name: str
    cluster_name: str
    subnet: str
    gateway: str
    internal: bool
    encrypted: bool
    labels: dict[str, str]
    docker_id: NotRequired[str]
    status: str
    owner: str
    shared: bool
    shared_with: list[str]
    is_external: bool
    containers: list[NetworkEndpoint]
    created: str


class ContainerEndpoint(TypedDict):
    network: int
    network_name: str


class Container(TypedDict):
    id: int
    name: str
    node: str | None
    image: str
    command: Any
    exposure: list[str]
    docker_id: NotRequired[str]
    status: str
    started_at: NotRequired[str | None]  # Docker's, as the portal last read it (portals before session 27: none)
    finished_at: NotRequired[str | None]
    exit_code: NotRequired[int | None]
    networks: list[ContainerEndpoint]
    created: str


class PortAnswer(TypedDict):
    container: str
    port: str | None
    lines: list[str]


class LogLine(TypedDict):
    time: str | None  # Docker's, nanoseconds; null unless timestamps=true
    stream: str  # stdout or stderr
    line: str


class Logs(TypedDict):
    container: str
    lines: list[LogLine]
    next_since: str | None


class DiagnosticCheck(TypedDict):
    kind: str
    ok: bool
    summary: str


class Diagnostics(TypedDict):
    container: str
    target: str
    ok: bool
    checks: list[DiagnosticCheck]


class ApiToken(TypedDict):
    name: str
    prefix: str
    tenant: str | None
    role: str | None
    created_by: str | None
    expires: str | None


# The schema component each response TypedDict stands for (checked by the agreement test).
RESPONSES: dict[str, type] = {
    "Operation": Operation,
    "NetworkBatchResult": NetworkBatchResult,
    "ErrorDetail": ErrorDetail,
    "Progress": Progress,
    "Transfer": Transfer,
    "Network": Network,
    "NetworkEndpoint": NetworkEndpoint,
    "Container": Container,
    "ContainerEndpoint": ContainerEndpoint,
    "PortAnswer": PortAnswer,
    "LogLine": LogLine,
    "Logs": Logs,
    "DiagnosticCheck": DiagnosticCheck,
    "Diagnostics": Diagnostics,
    "ApiToken": ApiToken,
}
