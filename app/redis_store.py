"""Redis, a store the app can do without for a while.

With REDIS_URL, Redis holds the rate limit counts, the cache of Kit's answers
and the job queue. None of them holds anything the app cannot rebuild, so a
Redis that is stopped or frozen (accepting connections, answering nothing)
must cost speed, never a page:

- the cache (`ForgivingRedisCache`): an error is a miss, and a write that
  fails is dropped;
- the rate limits: Flask-Limiter's in-memory fallback (`app.config`), each
  process counting on its own until Redis answers again;
- the jobs: `app.jobs.enqueue` logs a send that fails; the periodic sweeps
  find the work in the database;
- `/healthz` says "redis": "unreachable" (`ping`).

Every client gets short socket timeouts (SOCKET_TIMEOUT), and the cache stops
asking Redis for BREAK_SECONDS after a failure (`Breaker`): a frozen Redis
costs a request at most one timeout per process every few seconds, not one
per call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis
from flask import Flask
from flask_caching.backends.rediscache import RedisCache

log = logging.getLogger(__name__)

# Seconds to connect to Redis, and to wait for one answer. Redis answers in
# well under a millisecond: half a second means it is not answering.
SOCKET_TIMEOUT = 0.5
# Seconds the cache leaves Redis alone after a failure.
BREAK_SECONDS = 5.0
# What redis-py raises for a Redis that is down, frozen or refusing.
FAILURES = (redis.RedisError, OSError)
CLIENT_OPTIONS = {
    "socket_timeout": SOCKET_TIMEOUT,
    "socket_connect_timeout": SOCKET_TIMEOUT,
}


class Breaker:
    """After a failure, skip Redis for `seconds` (then try once more)."""

    def __init__(
        self,
        seconds: float = BREAK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """Redis may be asked."""
        return self._clock() >= self._open_until

    def trip(self) -> bool:
        """Stop asking for a while; True if it was asking until now (log once)."""
        with self._lock:
            was_closed = self.closed
            self._open_until = self._clock() + self.seconds
            return was_closed


class ForgivingRedisCache(RedisCache):
    """Flask-Caching's RedisCache, whose errors are misses (CACHE_TYPE
    "app.redis_store.ForgivingRedisCache"). Reads answer "not there", writes
    answer False; the caller computes the value as if the cache were cold."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.breaker = Breaker()

    def _try(self, name: str, miss: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.breaker.closed:
            return miss
        try:
            return getattr(super(), name)(*args, **kwargs)
        except FAILURES as exc:
            if self.breaker.trip():
                log.warning(
                    "Redis cache unreachable (%s): serving without it for %s s",
                    type(exc).__name__,
                    self.breaker.seconds,
                )
            return miss

    def get(self, key: str) -> Any:
        return self._try("get", None, key)

    def get_many(self, *keys: str) -> list[Any]:
        return self._try("get_many", [None] * len(keys), *keys)  # type: ignore[no-any-return]

    def has(self, key: str) -> bool:
        return bool(self._try("has", False, key))

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None) -> Any:
        return self._try("set", False, key, value, timeout)

    def add(self, key: str, value: Any, timeout: int | timedelta | None = None) -> Any:
        return self._try("add", False, key, value, timeout)

    def set_many(
        self, mapping: dict[str, Any], timeout: int | timedelta | None = None
    ) -> Any:
        return self._try("set_many", [], mapping, timeout)

    def delete(self, key: str) -> bool:
        return bool(self._try("delete", False, key))

    def delete_many(self, *keys: str) -> Any:
        return self._try("delete_many", [], *keys)

    def clear(self) -> bool:
        return bool(self._try("clear", False))

    def inc(self, key: str, delta: int = 1) -> Any:
        return self._try("inc", None, key, delta)

    def dec(self, key: str, delta: int = 1) -> Any:
        return self._try("dec", None, key, delta)


KEY = "redis_probe"


def init_app(app: Flask) -> None:
    """A client for `ping` (only with REDIS_URL)."""
    url = app.config.get("REDIS_URL")
    if url:
        app.extensions[KEY] = redis.Redis.from_url(url, **CLIENT_OPTIONS)


def ping(app: Flask) -> str | None:
    """Redis for /healthz: "ok" or "unreachable"; None when the app uses none."""
    client = app.extensions.get(KEY)
    if client is None:
        return None
    try:
        client.ping()
    except FAILURES:
        return "unreachable"
    return "ok"
