"""secondop.cache: Redis not answering is a cache miss, never an error."""

import logging
import os

import pytest

from secondop import cache as cache_module
from secondop.cache import FailSoftRedisCache
from tests.helpers import free_port


@pytest.fixture
def dead_cache():
    # Nothing listens on this port: every call fails to connect.
    return FailSoftRedisCache(
        f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 1}}
    )


def test_it_answers_like_an_empty_cache_when_redis_is_down(dead_cache, caplog):
    with caplog.at_level(logging.WARNING, logger="secondop.cache"):
        assert dead_cache.get("key") is None
        assert dead_cache.get("key", "fallback") == "fallback"
        assert dead_cache.get_many(["a", "b"]) == {}
        assert dead_cache.set("key", 1) is None
        assert dead_cache.add("key", 1) is False
        assert dead_cache.incr("counter", 3) == 3  # a limiter counts this call alone
        assert dead_cache.delete("key") is False
        assert dead_cache.get_or_set("key", 5) == 5
        assert "key" not in dead_cache
        dead_cache.clear()
    warnings = [r for r in caplog.records if r.name == "secondop.cache"]
    assert len(warnings) == 1  # once, not once a call
    assert "Redis cache unavailable" in warnings[0].getMessage()


def test_after_a_failure_it_leaves_redis_alone_for_a_few_seconds(dead_cache, monkeypatch):
    calls = []
    real = FailSoftRedisCache.__mro__[1].get

    def counting_get(self, *args, **kwargs):
        calls.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(FailSoftRedisCache.__mro__[1], "get", counting_get)
    for _ in range(20):
        dead_cache.get("key")
    assert len(calls) == 1
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: dead_cache._skip_until + 0.1)
    dead_cache.get("key")
    assert len(calls) == 2


def test_it_works_as_a_cache_when_redis_answers(settings):
    from django.core.cache import caches

    if not settings.CACHE_REDIS_URL:
        if os.environ.get("CI") or os.environ.get("SECONDOP_REQUIRE_SERVICES"):
            pytest.fail(
                "no Redis configured (scripts/test sets one): required in CI", pytrace=False
            )
        pytest.skip("no Redis configured (scripts/test sets one)")
    cache = caches["default"]
    assert isinstance(cache, FailSoftRedisCache)
    cache.set("answer", 42, 30)
    assert cache.get("answer") == 42
    assert cache.add("answer", 1) is False
    assert cache.incr("answer") == 43
    cache.set("forever", 1, None)  # None is "never expires", as in Django
    client = cache._cache.get_client(write=False)
    assert client.ttl(cache.make_and_validate_key("forever")) == -1
