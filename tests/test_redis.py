"""With REDIS_URL, the cache and the rate limits live in Redis, shared by every
worker: a real redis-server on a loopback port (skipped where none is installed;
.ci/run installs Debian's redis-server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.support.accounts import create_user, sign_in
from tests.support.installing import install


@pytest.fixture
def store(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def test_kit_data_is_cached_in_redis_per_connection(
    make_app, kit, kit_browser, redis_url, store
):
    app = make_app(REDIS_URL=redis_url)
    assert app.config["CACHE_TYPE"] == "app.redis_store.ForgivingRedisCache"
    client = app.test_client()
    # Account mail goes through the job queue (no worker here): a stored user.
    create_user(app)
    sign_in(client)
    install(client, kit_browser, account=1001)
    client.get("/c/1/forms")
    keys = [k.decode() for k in store.keys("kit-app-starter:*")]
    assert any(k.startswith("kit-app-starter:kit:1:") for k in keys)
    # Another worker (another app instance) answers from the same cache.
    calls = kit.state.stats()["api_requests"]
    other = make_app(REDIS_URL=redis_url).test_client()
    other.post(
        "/login",
        data={"email": "creator@example.com", "password": "correct horse battery"},
    )
    assert other.get("/c/1/forms").status_code == 200
    assert kit.state.stats()["api_requests"] == calls


def test_rate_limits_are_shared_by_every_worker(make_app, redis_url, store):
    workers = [
        make_app(REDIS_URL=redis_url, RATELIMIT_ENABLED=True).test_client()
        for _ in range(2)
    ]
    codes = [
        workers[n % 2]
        .post("/login", data={"email": "x@example.com", "password": "no"})
        .status_code
        for n in range(11)
    ]
    assert codes[:10] == [400] * 10
    assert codes[10] == 429
    counted = store.get("LIMITS:LIMITER/127.0.0.1/auth.login/10/1/minute")
    assert int(counted) >= 10  # both workers counted in the one place
