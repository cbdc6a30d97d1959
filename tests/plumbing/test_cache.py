"""The shared cache's client (plumbing/cache.py) and redis-py's description of itself (plumbing/redis_driver.py):
every thread's cache object uses the process's one client and connection pool, and a new connection of the
cache or of the broker is described without reading redis-py's package metadata again."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import caches
from kombu import Connection

from plumbing.api.throttling import redis_client
from plumbing.broker import Transport
from plumbing.redis_driver import driver_info


@pytest.fixture
def shared_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "plumbing.cache.ReusingRedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,  # the tests' own Redis database; nothing is written
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return settings


def in_a_new_thread(action):
    found = []
    thread = threading.Thread(target=lambda: found.append(action()))
    thread.start()
    thread.join()
    return found[0]


def test_every_threads_cache_uses_the_processs_one_client_and_pool(shared_cache):
    mine = caches["default"]
    theirs = in_a_new_thread(lambda: caches["default"])
    assert theirs is not mine  # Django keeps a cache object per thread
    client = redis_client(mine, "key")
    assert in_a_new_thread(lambda: redis_client(caches["default"], "key")) is client
    assert in_a_new_thread(lambda: caches["default"]._cache) is mine._cache


def test_threads_that_start_at_once_make_one_client():
    shared = {
        "BACKEND": "plumbing.cache.ReusingRedisCache",
        "LOCATION": f"{settings.CELERY_BROKER_URL}?at-once",  # a location no other test made a client for
        "OPTIONS": {"socket_connect_timeout": 1},
    }
    barrier = threading.Barrier(8)
    clients = []

    def first_command():
        with mock.patch.dict(settings.CACHES, {"default": shared}):
            cache = caches.create_connection("default")
            barrier.wait()
            clients.append(redis_client(cache, "key"))

    threads = [threading.Thread(target=first_command) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in clients}) == 1


def test_new_connections_are_described_without_reading_the_package_metadata(shared_cache):
    driver_info()  # made once, before
    with mock.patch("redis.utils.get_lib_version", side_effect=AssertionError("read the metadata")) as read:
        pool = redis_client(caches["default"], "key").connection_pool
        connection = pool.make_connection()
        assert connection.driver_info is driver_info()
        with Connection(settings.CELERY_BROKER_URL, transport=Transport) as broker:
            channel = broker.default_channel
            assert channel.pool.make_connection().driver_info is driver_info()
    assert read.call_count == 0
