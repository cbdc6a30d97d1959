"""The portal's REST API as the client uses it, written on its OpenAPI schema (/api/v1/schema/).

Each endpoint the client calls is one entry of ENDPOINTS, with the request body's TypedDict and the
query parameters it may send; the response TypedDicts name the fields it reads. tests/client/
test_schema_agreement.py checks all of them against the schema's snapshot, so a change on either side
that they no longer agree on fails there, not in a user's terminal.

The shapes (request bodies and answers, as TypedDicts) are in types.py. Every failure is an ApiError carrying one sentence: a refused connection, a timeout, a 401, a 429 with
its wait, a 5xx, an answer that is not JSON.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

import httpx

from . import __version__
from .config import Profile
from .types import (
    BatchResult,
    ContainerRunBody,
    DiagnoseBody,
    NetworkConnectBody,
    NetworkCreateBody,
    NetworkDisconnectBody,
    NetworkShareBody,
    Operation,
)

TIMEOUT = 130.0  # the API holds an answer at most 120 s (?wait=)


class ApiError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after  # a 429's or 503's Retry-After, in seconds


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as the schema writes it, e.g. /api/v1/networks/{id}/
    body: type | None = None
    query: tuple[str, ...] = ()
    many: bool = False  # the body is a list of `body`


ENDPOINTS: dict[str, Endpoint] = {
    "networks_list": Endpoint("GET", "/api/v1/networks/", query=("name", "page", "page_size", "status")),
    "networks_create": Endpoint("POST", "/api/v1/networks/", NetworkCreateBody),
    "networks_batch": Endpoint("POST", "/api/v1/networks/batch/", NetworkCreateBody, many=True),
    "networks_retrieve": Endpoint("GET", "/api/v1/networks/{id}/"),
    "networks_destroy": Endpoint("DELETE", "/api/v1/networks/{id}/"),
    "networks_inspect": Endpoint("GET", "/api/v1/networks/{id}/inspect/"),
    "networks_share": Endpoint("POST", "/api/v1/networks/{id}/share/", NetworkShareBody),
    "networks_unshare": Endpoint("POST", "/api/v1/networks/{id}/unshare/", NetworkShareBody),
    "networks_connect": Endpoint("POST", "/api/v1/networks/{id}/connect/", NetworkConnectBody),
    "networks_disconnect": Endpoint("POST", "/api/v1/networks/{id}/disconnect/", NetworkDisconnectBody),
    "containers_list": Endpoint("GET", "/api/v1/containers/", query=("name", "page", "page_size", "status")),
    "containers_create": Endpoint("POST", "/api/v1/containers/", ContainerRunBody),
    "containers_retrieve": Endpoint("GET", "/api/v1/containers/{id}/"),
    "containers_destroy": Endpoint("DELETE", "/api/v1/containers/{id}/"),
    "containers_remove": Endpoint("POST", "/api/v1/containers/{id}/remove/"),
    "containers_stop": Endpoint("POST", "/api/v1/containers/{id}/stop/"),
    "containers_start": Endpoint("POST", "/api/v1/containers/{id}/start/"),
    "containers_restart": Endpoint("POST", "/api/v1/containers/{id}/restart/"),
    "containers_port": Endpoint("GET", "/api/v1/containers/{id}/port/", query=("port",)),
    "containers_logs": Endpoint(
        "GET", "/api/v1/containers/{id}/logs/", query=("tail", "since", "timestamps", "follow")
    ),
    "containers_diagnose": Endpoint("POST", "/api/v1/containers/{id}/diagnose/", DiagnoseBody),
    "operations_list": Endpoint("GET", "/api/v1/operations/", query=("page_size", "id", "status")),
    "operations_retrieve": Endpoint("GET", "/api/v1/operations/{id}/", query=("wait",)),
    "tokens_list": Endpoint("GET", "/api/v1/tokens/", query=("page_size",)),
}

# Creates carry an Idempotency-Key: a retried command never makes two.
IDEMPOTENT = {"networks_create", "networks_batch", "containers_create"}
BATCH_MOST = 100  # networks in one POST /api/v1/networks/batch/, and operations read by id at once
RETRIES = 3


def _sentence(response: httpx.Response) -> ApiError:
    """The portal's own sentence from its one error shape, or one made from the status."""
    status = response.status_code
    code, message = "", ""
    try:
        error = response.json().get("error") or {}
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
        field = error.get("field")
        if field and message and not message.startswith(f"{field}:"):
            message = f"{field}: {message}"
    except (ValueError, AttributeError):
        pass
    if status == 401:
        message = message or "The portal refused the token."
        message += " Make a new token on the portal's Tokens page and run `overlay login` again."
    elif status == 429:
        wait = response.headers.get("Retry-After")
        message = message or "The portal throttled this client."
        if wait:
            message += f" Try again in {wait} s."
    elif status >= 500 and not message:
        message = f"The portal answered {status} {response.reason_phrase}: try again later, or ask its operators."
    elif not message:
        message = f"The portal answered {status} {response.reason_phrase}."
    return ApiError(message, status=status, code=code, retry_after=_seconds(response.headers.get("Retry-After")))


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (an HTTP date, which the portal never sends, counts as unknown)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class Api:
    def __init__(self, profile: Profile, transport: httpx.BaseTransport | None = None):
        self.profile = profile
        headers = {"Authorization": f"Token {profile.token}", "User-Agent": f"overlay/{__version__}"}
        if profile.tenant:
            headers["X-Tenant"] = profile.tenant
        self.http = httpx.Client(base_url=profile.url, headers=headers, timeout=TIMEOUT, transport=transport)

    def call(self, name: str, *, id: int | None = None, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self.answer(self.send(name, id=id, body=body, params=params))

    def answer(self, response: httpx.Response) -> Any:
        """An answer's JSON (None for an empty one)."""
        if response.status_code in (204, 304) or not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise ApiError(
                f"The portal at {self.profile.url} answered something that is not JSON: is the URL the portal's?"
            ) from error

    def send(
        self,
        name: str,
        *,
        id: int | None = None,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The portal's answer to one endpoint's request (a connection refused or timed out is tried again;
        a creates' retry keeps its Idempotency-Key); an answer of 400 or more is an ApiError."""
        endpoint = ENDPOINTS[name]
        if params and not set(params) <= set(endpoint.query):
            raise AssertionError(f"{name} sends query parameters it does not declare: {sorted(params)}")
        path = endpoint.path.format(id=id)
        headers = {**(headers or {}), **({"Idempotency-Key": str(uuid.uuid4())} if name in IDEMPOTENT else {})}
        attempts = RETRIES if (name in IDEMPOTENT or endpoint.method == "GET") else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self.http.request(endpoint.method, path, json=body, params=params, headers=headers)
                break
            except httpx.ConnectError as error:
                if attempt == attempts:
                    raise ApiError(
                        f"Cannot reach the portal at {self.profile.url} ({error}): is it running, and is the URL right?"
                    ) from error
            except httpx.TimeoutException as error:
                if attempt == attempts:
                    raise ApiError(f"The portal at {self.profile.url} did not answer in time: try again.") from error
            except httpx.HTTPError as error:
                if attempt == attempts:
                    raise ApiError(f"The request to {self.profile.url} failed ({error}): try again.") from error
            time.sleep(0.5 * attempt)  # the same Idempotency-Key: a create that did arrive is answered again
        if response.status_code >= 400:
            raise _sentence(response)
        return response

    # Typed calls
    def results(self, endpoint: str, **params: Any) -> list[Any]:
        answer = self.call(endpoint, params={"page_size": 1000, **params})
        return list(answer["results"]) if isinstance(answer, dict) and "results" in answer else list(answer)

    def live(self, endpoint: str, **params: Any) -> list[Any]:
        """What docker would still show: a removed network or container is gone."""
        return [row for row in self.results(endpoint, **params) if row.get("status") != "removed"]

    def operation(self, operation_id: int) -> Operation:
        return cast(Operation, self.call("operations_retrieve", id=operation_id))

    def operation_ended(self, operation_id: int, *, wait: float) -> tuple[Operation, bool]:
        """The operation once it has ended, which the portal holds up to `wait` seconds (?wait= without a tag);
        and whether the portal holds reads at all (its answer has an ETag): else it answered at once."""
        response = self.send("operations_retrieve", id=operation_id, params={"wait": f"{wait:g}"})
        return cast(Operation, self.answer(response)), "ETag" in response.headers

    def operation_changed(self, operation_id: int, tag: str, *, wait: float) -> tuple[Operation | None, str]:
        """The operation once it is no longer the answer tagged `tag` (an ETag; "" for none), which the portal
        holds up to `wait` seconds, and its new tag; None and the same tag when the wait ran out unchanged."""
        params = {"wait": f"{wait:g}"} if tag else None
        headers = {"If-None-Match": tag} if tag else None
        response = self.send("operations_retrieve", id=operation_id, params=params, headers=headers)
        if response.status_code == 304:
            return None, tag
        operation = cast(Operation, self.answer(response))
        return operation, response.headers.get("ETag", "")

    def network_create(self, body: NetworkCreateBody) -> Operation:
        return cast(Operation, self.call("networks_create", body=body))

    def networks_create_batch(self, bodies: list[NetworkCreateBody]) -> list[BatchResult]:
        """Each network's answer, in order: its operation, or its refusal (`error`)."""
        results: list[BatchResult] = []
        for start in range(0, len(bodies), BATCH_MOST):
            answer = self.call("networks_batch", body=bodies[start : start + BATCH_MOST])
            results.extend(answer["results"])
        return results

    def operations(self, operation_ids: list[int], *, unfinished: bool = False) -> list[Operation]:
        """The operations of `operation_ids` (those still queued or running when `unfinished`), BATCH_MOST a request."""
        found: list[Operation] = []
        for start in range(0, len(operation_ids), BATCH_MOST):
            params: dict[str, Any] = {"id": ",".join(str(pk) for pk in operation_ids[start : start + BATCH_MOST])}
            if unfinished:
                params["status"] = ["queued", "running"]
            found.extend(self.results("operations_list", **params))
        return found

    def container_run(self, body: ContainerRunBody) -> Operation:
        return cast(Operation, self.call("containers_create", body=body))

    def network_id(self, name_or_id: str) -> int:
        return self._find("networks_list", name_or_id, "network")

    def container_id(self, name_or_id: str) -> int:
        return self._find("containers_list", name_or_id, "container")

    def _find(self, endpoint: str, name_or_id: str, noun: str) -> int:
        """Docker's rule: an exact name first, then the portal's id, then a prefix of Docker's id."""
        for row in self.live(endpoint, name=name_or_id):
            if row["name"] == name_or_id:
                return int(row["id"])
        if name_or_id.isdigit():
            return int(name_or_id)
        if len(name_or_id) >= 4:
            for row in self.live(endpoint):
                if (row.get("docker_id") or "").startswith(name_or_id):
                    return int(row["id"])
        raise ApiError(f"Error: No such {noun}: {name_or_id}", status=404, code="not_found")
