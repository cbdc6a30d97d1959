"""Adapter over py-consul: the cluster's key-value state and agent membership."""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import consul
import requests.exceptions

from .consul_put import kv_put_plain
from .endpoints import ConsulEndpoint, consul_endpoint_of
from .errors import EngineError, StateStoreUnavailable
from .sessions import lean

DEFAULT_TIMEOUT = 10


@contextlib.contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, consul.Timeout) as exc:
        raise StateStoreUnavailable(raw=str(exc)) from exc
    except (OSError, http.client.HTTPException) as exc:  # a plain connection's (consul_put.py)
        raise StateStoreUnavailable(raw=str(exc) or type(exc).__name__) from exc
    except consul.ConsulException as exc:
        raise EngineError(f"Consul refused the request: {exc}", code="consul_error", raw=str(exc)) from exc


@functools.lru_cache(maxsize=16)
def client(address: ConsulEndpoint | str) -> consul.Consul:
    endpoint = consul_endpoint_of(address)
    parts = urlsplit(endpoint.url if "://" in endpoint.url else f"http://{endpoint.url}")
    agent = consul.Consul(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 8500,
        scheme=parts.scheme or "http",
        token=endpoint.token or None,
        connections_timeout=DEFAULT_TIMEOUT,
    )
    # As for Docker (docker.py): no HTTP(S)_PROXY carries a cluster's traffic, and requests would otherwise
    # read the whole environment for proxy settings on every call (~0.5 ms of CPU each).
    agent.http.session.trust_env = False
    lean(agent.http.session)  # and its requests prepared without merging what it never holds (sessions.py)
    return agent


def leader(address: ConsulEndpoint | str) -> str:
    with translated():
        return client(address).status.leader()


def members(address: ConsulEndpoint | str) -> list[dict]:
    """Agents the cluster knows, with Consul's `Status` (1 = alive)."""
    with translated():
        return client(address).agent.members()


@functools.lru_cache(maxsize=16)
def _plain(address: ConsulEndpoint | str) -> tuple[ConsulEndpoint, str, int] | None:
    """The agent's endpoint, host and port when it speaks plain HTTP (consul_put.py); None over HTTPS."""
    endpoint = consul_endpoint_of(address)
    parts = urlsplit(endpoint.url if "://" in endpoint.url else f"http://{endpoint.url}")
    if (parts.scheme or "http") != "http":
        return None
    return endpoint, parts.hostname or "127.0.0.1", parts.port or 8500


def kv_put(address: ConsulEndpoint | str, key: str, value: str, *, cas: int | None = None) -> bool:
    """Write a key; with `cas=0` the write only succeeds when the key does not exist yet. Over plain HTTP
    through the thread's own connection (consul_put.py: a third of py-consul's CPU), else through py-consul."""
    plain = _plain(address)
    with translated():
        if plain is None:
            return bool(client(address).kv.put(key, value, cas=cas))
        return kv_put_plain(*plain, key, value, cas=cas, timeout=DEFAULT_TIMEOUT)


def kv_get(address: ConsulEndpoint | str, key: str) -> str | None:
    with translated():
        _, item = client(address).kv.get(key)
    if item is None or item.get("Value") is None:
        return None
    return item["Value"].decode("utf-8")


def kv_get_tree(address: ConsulEndpoint | str, prefix: str) -> dict[str, str]:
    with translated():
        _, items = client(address).kv.get(prefix, recurse=True)
    return {item["Key"]: (item["Value"] or b"").decode("utf-8") for item in items or []}


def kv_get_tree_changes(address: ConsulEndpoint | str, prefix: str) -> dict[str, tuple[str, int]]:
    """Every key under `prefix` with its value and the index of its last write (its ModifyIndex)."""
    with translated():
        _, items = client(address).kv.get(prefix, recurse=True)
    return {item["Key"]: ((item["Value"] or b"").decode("utf-8"), item["ModifyIndex"]) for item in items or []}


def kv_index(address: ConsulEndpoint | str, unwritten_key: str) -> int:
    """The index of Consul's whole key-value store: it moves on any write or delete of any key. Read as
    Consul answers a read of a key that does not exist (`unwritten_key`: one nobody writes), in one lookup
    however many keys there are; the index of a prefix's listing is computed over every key under it (4.9
    ms for 20,000 keys against 1.3 ms for 2,000 on the local cluster)."""
    with translated():
        index, _ = client(address).kv.get(unwritten_key)
    return int(index or 0)


def kv_delete(address: ConsulEndpoint | str, key: str, *, recurse: bool = False) -> None:
    with translated():
        client(address).kv.delete(key, recurse=recurse)


TXN_MAX_OPS = 64  # Consul's limit of operations in one transaction


def kv_put_all(address: ConsulEndpoint | str, items: list[tuple[str, str]], *, create: bool = False) -> bool:
    """Write many keys in Consul transactions of TXN_MAX_OPS each (one commit of Consul's log per
    transaction instead of one per key). With `create`, each key is written only when it does not exist
    yet (check-and-set 0): False when a transaction met a key that exists, and none of its keys was written
    (the keys of the transactions before it were)."""
    verb = {"Verb": "cas", "Index": 0} if create else {"Verb": "set"}
    for start in range(0, len(items), TXN_MAX_OPS):
        payload = [
            {"KV": {**verb, "Key": key, "Value": base64.b64encode(value.encode("utf-8")).decode("ascii")}}
            for key, value in items[start : start + TXN_MAX_OPS]
        ]
        try:
            with translated():
                client(address).txn.put(payload)
        except EngineError as error:
            if create and (error.raw or "").startswith("409"):  # a check-and-set failed: nothing written
                return False
            raise
    return True


def kv_delete_all(address: ConsulEndpoint | str, *, keys: list[str], trees: list[str] | None = None) -> None:
    """Delete keys and whole key trees in one Consul transaction: one commit of Consul's log for all of them,
    and all or none is deleted."""
    payload = [{"KV": {"Verb": "delete", "Key": key}} for key in keys]
    payload += [{"KV": {"Verb": "delete-tree", "Key": tree}} for tree in trees or []]
    with translated():
        client(address).txn.put(payload)


def service_register(
    address: str, *, service_id: str, name: str, service_address: str, port: int, tags: list[str]
) -> None:
    """Register a service on one node's agent (the agent of the node the container runs on)."""
    with translated():
        client(address).agent.service.register(
            name, service_id=service_id, address=service_address, port=port, tags=tags
        )


def service_deregister(address: ConsulEndpoint | str, service_id: str) -> None:
    with translated():
        client(address).agent.service.deregister(service_id)


def services(address: ConsulEndpoint | str) -> dict[str, dict]:
    """The services registered on one agent, by id."""
    with translated():
        return client(address).agent.services()
