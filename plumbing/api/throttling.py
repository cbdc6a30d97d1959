"""The API's rate limit (settings.REST_FRAMEWORK's throttle class) and the shared cache's counts it and the
sign-in lockout keep: kept apart from base.py, which imports DRF's views. Its pages: pagination.py."""

import logging
import math

from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)

# A shared cache (Redis) that does not answer: the limits let requests through rather than fail them
# all (the task queue is the same Redis, and an API that queues while it is down still answers 202).
COUNTING_DOWN = (RedisConnectionError, RedisTimeoutError)

# One round trip for a count: the increment, and the key's expiry when the increment made it.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def redis_client(cache, key: str):
    """The redis-py client behind a Django RedisCache (None for another cache, such as memory's)."""
    client = getattr(cache, "_cache", None)
    return client.get_client(key, write=True) if client is not None and hasattr(client, "get_client") else None


def cache_count(cache, key: str, timeout: int) -> int:
    """Add one to a counter in the cache and return it; a new counter lives `timeout` seconds.

    Redis: one round trip (Django's incr is two, and a miss two more). Another cache: incr, or add."""
    client = redis_client(cache, key)
    if client is not None:
        return int(client.eval(_COUNT_SCRIPT, 1, cache.make_and_validate_key(key), int(timeout)))
    try:
        return cache.incr(key)
    except ValueError:  # the first count (or one that raced it)
        return 1 if cache.add(key, 1, timeout) else cache.incr(key)


class TokenRateThrottle(UserRateThrottle):
    """Per token (per user for the session): the rate is API_THROTTLE_RATE, read on every request.

    A counter per fixed window of the rate's period, not DRF's list of every request's time: that
    list is read and written whole on every request, so each request cost more the more requests
    the window held (thousands at a high rate). The counter is one atomic increment in the cache,
    whatever the rate. As with any fixed window, a client may spend one window's allowance at its
    end and the next one's at the start of the next.
    """

    scope = "user"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "key_hash"):
            return self.cache_format % {"scope": "token", "ident": token.pk}
        return super().get_cache_key(request, view)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        # The key names its window and outlives it, so an increment never meets it expired (which
        # would make it again, with no expiry); a new window starts from a new key.
        key = f"{ident}_{window}"
        try:
            count = self.count(key)
        except COUNTING_DOWN as error:
            logger.warning("The API's rate limit is not counted: the cache does not answer (%s).", error)
            return True
        return count <= self.num_requests

    def count(self, key: str) -> int:
        return cache_count(self.cache, key, 2 * self.duration)

    def wait(self):
        return max(math.ceil(self.window_end - self.now), 1)
