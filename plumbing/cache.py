"""Django's Redis cache, with one client and one connection pool per process instead of one per call and
per thread.

Django's RedisCacheClient makes a new redis.Redis for every get, incr or get_many: building its table of
response callbacks costs about 0.17 ms of CPU each time, more than the round trip. And Django keeps a
cache object per thread (`caches` is thread-local), each with its own connection pools: every new thread
of a web process (gunicorn's gthread workers start them as requests come at once) made a pool, connected
to Redis and built a client on its first request, about 2 ms of CPU. A redis.Redis over a connection pool
is safe to share between threads (the pool hands each command a connection of its own), so each process
keeps one client per location and options, which every thread's cache object uses; the pool opens
connections only as many as are used at once. A forked child (a Celery pool process) gets new
connections of its own: redis-py's pool notices the new pid.

Each new connection tells Redis who it is (CLIENT SETINFO) with the description made once per process
(plumbing/redis_driver.py), not read again from the package's metadata.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

from plumbing.redis_driver import driver_info

_shared: dict[tuple[str, str], ReusingRedisCacheClient] = {}  # per process: (servers, options) -> client
_made = threading.Lock()


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's own private parts (RedisCacheClient's), which its stubs do not describe.
        self._pool_options.setdefault("driver_info", driver_info())  # type: ignore[attr-defined]
        self._clients: dict[int, object] = {}
        self._making = threading.Lock()

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            with self._making:  # two threads' first commands at once make one pool, not two
                client = self._clients.get(index)
                if client is None:
                    pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
                    client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


def shared_client(servers: list[str], options: dict) -> ReusingRedisCacheClient:
    """The process's client for these servers and options, made on first use."""
    key = (repr(servers), repr(sorted(options.items())))
    client = _shared.get(key)
    if client is None:
        with _made:
            client = _shared.get(key)
            if client is None:
                client = _shared[key] = ReusingRedisCacheClient(servers, **options)
    return client


class ReusingRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        return shared_client(self._servers, self._options)  # type: ignore[attr-defined]
