"""redis-py's description of itself, which each new connection sends Redis (CLIENT SETINFO), made once per
process.

redis-py makes this description anew for every connection object, and with it reads its own version from
the installed package's metadata (importlib.metadata: the search path scanned, the METADATA file parsed),
about 0.3 ms of CPU, more than connecting takes. Every new connection of the cache (plumbing/cache.py) and
of the broker (plumbing/broker.py) paid it; they are given this one instead: the same name and version.
"""

from __future__ import annotations

import functools

from redis.driver_info import DriverInfo


@functools.cache
def driver_info() -> DriverInfo:
    return DriverInfo()
