"""The cache backend: Django's Redis cache that carries on when Redis does not answer.

Nothing SecondOp keeps in the cache is the only copy of anything: sessions are
`cached_db` (the database holds them), counts and the ICD-10 vocabulary are
recomputed, rate-limit counters and TOTP replay marks are protections that are
lost, not data. So when Redis is down a cache read is a miss and a write is skipped,
with a warning logged, instead of an error page for every signed-in person.

After a failed call the cache is left alone for `SKIP_AFTER_FAILURE` seconds: a
stopped Redis costs one failed connection per process per few seconds, not one (with
the client's own retries, over half a second) per cache call.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("secondop.cache")

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
SKIP_AFTER_FAILURE = 5.0
WARN_EVERY = 30.0

# What each call answers while Redis is away: what a cache that holds nothing answers.
_FALLBACKS = {
    "get": lambda *args, **kwargs: kwargs.get("default", args[1] if len(args) > 1 else None),
    "get_many": lambda *args, **kwargs: {},
    "has_key": lambda *args, **kwargs: False,
    "add": lambda *args, **kwargs: False,
    "set": lambda *args, **kwargs: None,
    "set_many": lambda *args, **kwargs: [],
    "touch": lambda *args, **kwargs: False,
    "delete": lambda *args, **kwargs: False,
    "delete_many": lambda *args, **kwargs: None,
    "clear": lambda *args, **kwargs: None,
    # A counter that cannot be read counts this call alone (a rate limit lets it through).
    "incr": lambda *args, **kwargs: kwargs.get("delta", args[1] if len(args) > 1 else 1),
    "decr": lambda *args, **kwargs: 0,
}


class FailSoftRedisCache(RedisCache):
    """Redis cache whose calls degrade to a miss or a skipped write while Redis is down."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._skip_until = 0.0
        self._warned_at = 0.0
        self._lock = threading.Lock()

    def _unavailable(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self._skip_until = now + SKIP_AFTER_FAILURE
            warn = now - self._warned_at >= WARN_EVERY
            if warn:
                self._warned_at = now
        if warn:
            logger.warning(
                "Redis cache unavailable (%s on %s): cache reads are misses and "
                "writes are skipped until it answers.",
                type(error).__name__,
                operation,
            )

    def _call(self, operation: str, *args, **kwargs):
        if time.monotonic() < self._skip_until:
            return _FALLBACKS[operation](*args, **kwargs)
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable(operation, error)
            return _FALLBACKS[operation](*args, **kwargs)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", key, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version=version)

    def clear(self):
        return self._call("clear")

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version=version)

    def decr(self, key, delta=1, version=None):
        return self._call("decr", key, delta, version=version)
