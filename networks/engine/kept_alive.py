"""Kept-alive `http.client` connections of the thread's own, one per address, for the calls every create makes
(Docker's create and inspect: docker_plain.py; Consul's two puts: consul_put.py).

A connection is opened the first time its address is asked for, and anew in a forked child (which never
writes on its parent's sockets). Before it is reused it is checked: one the other end closed while it sat idle
is readable with nothing asked (as urllib3 checks), so it is closed here and http.client opens it again on the
next request; a request is never sent twice. Its answers are read as `LeanResponse`s (lean_response.py:
http.client's own, their header lines split without the email package).
"""

from __future__ import annotations

import http.client
import os
import select
import threading
from collections.abc import Callable, Hashable

from .lean_response import LeanResponse

_local = threading.local()


def kept_alive(address: Hashable, opened: Callable[[], http.client.HTTPConnection]) -> http.client.HTTPConnection:
    """The thread's connection to `address`, made by `opened` the first time (and after a fork)."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.connections, _local.pid = {}, os.getpid()
    held: dict[Hashable, http.client.HTTPConnection] = _local.connections
    connection = held.get(address)
    if connection is None:
        connection = held[address] = opened()
        connection.response_class = LeanResponse
    elif connection.sock is not None:
        readable, _, _ = select.select([connection.sock], [], [], 0)
        if readable:  # an idle kept-alive connection has nothing to say but its end
            connection.close()
    return connection
