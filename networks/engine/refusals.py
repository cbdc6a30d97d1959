"""Docker's refusals, translated: the tables of what the engine says and the sentence each becomes, and
the one function that turns an SDK or transport exception into an `EngineError`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import docker.errors
import requests.exceptions

from .errors import ClusterUnavailable, EngineError, StateStoreUnavailable

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
