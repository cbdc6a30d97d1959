"""One key written to Consul over a kept-alive `http.client` connection of the thread's own.

Every network create writes two keys (its block's reservation and its document). Through py-consul, each
went through requests and urllib3 (a session's preparation, an adapter, a connection pool, a response
object, headers parsed into a case-insensitive dict, py-consul's response): about 1 ms of CPU, three times
what the same PUT costs over `http.client`, and a third of a worker's CPU per create is its HTTP calls.
Here the request is the same on the wire (path quoted and parameters encoded as py-consul does, its token
header) and its answer is judged by py-consul's own callback, so the same exceptions are raised for the
same answers. A connection the agent closed while it sat idle is seen before it is reused (readable with
nothing asked, as urllib3 checks) and opened anew; a request is never sent twice. Plain HTTP only: an
agent over HTTPS goes through py-consul (consul.py).
"""

from __future__ import annotations

import http.client
import urllib.parse

from consul.base import Response
from consul.callback import CB

from .endpoints import ConsulEndpoint
from .kept_alive import kept_alive


def _connection(endpoint: ConsulEndpoint, host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    """The thread's connection to the agent (kept_alive.py)."""
    return kept_alive((endpoint.url, endpoint.token), lambda: http.client.HTTPConnection(host, port, timeout=timeout))


def kv_put_plain(
    endpoint: ConsulEndpoint, host: str, port: int, key: str, value: str, *, cas: int | None, timeout: float
) -> bool:
    """PUT /v1/kv/KEY (`?cas=N` when given): True when written, False when the check-and-set refused it.
    Raises OSError or http.client.HTTPException when the agent cannot be reached or answered nothing, and
    py-consul's exceptions for its refusals."""
    path = urllib.parse.quote(f"/v1/kv/{key}", safe="/:")
    if cas is not None:
        path = f"{path}?{urllib.parse.urlencode([('cas', cas)])}"
    headers = {"X-Consul-Token": endpoint.token} if endpoint.token else {}
    connection = _connection(endpoint, host, port, timeout)
    try:
        connection.request("PUT", path, body=value.encode(), headers=headers)
        answer = connection.getresponse()
        body = answer.read().decode("utf-8")
    except BaseException:
        connection.close()
        raise
    if answer.will_close:
        connection.close()
    return bool(CB.json()(Response(answer.status, answer.headers, body)))
