"""Redis stopped or frozen (accepting connections, answering nothing): rate
limits fall back to each process's memory, a cache error is a miss, a job that
cannot be queued is left to the periodic sweeps, and /healthz names Redis.
A real redis-server per test, really stopped (SIGTERM) or frozen (SIGSTOP)."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis

from tests.support.accounts import PASSWORD, create_user, outbox_link, sign_in
from tests.support.installing import install
from tests.support.rows import stored
from tests.support.settings import redis_server


@pytest.fixture
def outage(make_app, kit, kit_browser):  # type: ignore[no-untyped-def]
    """An app on its own redis-server, a creator signed in with a connection;
    yields (app, client, how) where how("stop"|"freeze") breaks Redis."""
    with redis_server() as url:
        probe = redis.Redis.from_url(url, socket_timeout=0.5)
        pid = int(probe.info()["process_id"])
        app = make_app(REDIS_URL=url, RATELIMIT_ENABLED=True)
        client = app.test_client()
        # Account mail goes through the job queue (no worker here): a user
        # stored as confirmed, who signs in.
        create_user(app)
        assert sign_in(client).status_code == 302
        assert install(client, kit_browser, account=1001).status_code == 302
        frozen: list[bool] = []

        def breaks(how: str) -> None:
            if how == "freeze":
                os.kill(pid, signal.SIGSTOP)
                frozen.append(True)
            else:
                os.kill(pid, signal.SIGTERM)
                _wait_refused(probe)

        yield app, client, breaks
        if frozen:
            os.kill(pid, signal.SIGCONT)


def _wait_refused(probe: redis.Redis) -> None:
    """Until the stopped server refuses connections."""
    for _ in range(200):
        try:
            probe.ping()
        except redis.ConnectionError:
            return
        time.sleep(0.05)
    pytest.fail("redis-server did not stop")


DASHBOARD = [
    "/dashboard",
    "/c/1",
    "/c/1/subscribers",
    "/c/1/tags",
    "/c/1/forms",
    "/c/1/sequences",
    "/c/1/broadcasts",
    "/c/1/activity",
    "/accounts",
    "/connections/1",
]


@pytest.mark.parametrize("how", ["stop", "freeze"])
def test_with_redis_down_every_creator_route_still_answers(
    outage, kit, kit_browser, how
):
    app, client, breaks = outage
    breaks(how)

    health = client.get("/healthz")
    assert health.json == {
        "status": "degraded",
        "database": "ok",
        "redis": "unreachable",
    }
    assert health.status_code == 200  # the app still serves: keep it in rotation

    ada = kit.state.account_data(1001)
    details = [
        f"/c/1/subscribers/{min(ada.subscribers)}",
        f"/c/1/tags/{min(ada.tags)}",
        f"/c/1/broadcasts/{min(ada.broadcasts)}",
    ]
    for path in DASHBOARD + details:
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code, page.text[:300])
    # A write to Kit, whose cached answers then go stale (a cache write).
    added = client.post("/c/1/subscribers", data={"email_address": "n@example.com"})
    assert added.status_code in (302, 303), added.text[:300]

    # Sign out, sign in again: the sign-in limit counts in memory now.
    assert client.post("/logout").status_code == 302
    assert sign_in(client).status_code == 302
    # Someone new signs up and is told to check their inbox; their
    # confirmation mail cannot be queued, so the request sends it.
    other = app.test_client()
    signed_up = other.post(
        "/signup",
        data={"email": "new@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert signed_up.status_code == 302, signed_up.text[:300]
    assert signed_up.location == "/signup/check-inbox"
    assert other.get(signed_up.location).status_code == 200
    assert outbox_link(app, "new@example.com", "/verify-email")

    # The install callback completes (its jobs cannot be queued: the sweeps
    # find the work later), for a second account.
    back = install(client, kit_browser, account=1002)
    assert back.status_code == 302, back.text[:300]
    assert stored(app, 2).status == "active"

    # A disconnect that completed says so.
    gone = client.post("/connections/2/disconnect", follow_redirects=True)
    assert gone.status_code == 200, gone.text[:300]
    assert "Disconnected" in gone.text
    assert "Something went wrong" not in gone.text
    assert stored(app, 2).status == "revoked"


def test_rate_limits_still_apply_in_memory_while_redis_is_stopped(outage):
    app, _, breaks = outage
    breaks("stop")
    create_user(app, "limited@example.com")
    client = app.test_client()
    codes = [
        client.post(
            "/login", data={"email": "limited@example.com", "password": "no"}
        ).status_code
        for _ in range(11)
    ]
    assert 500 not in codes
    assert codes[-1] == 429  # the sign-in limit still holds, per process


def test_the_breaker_skips_redis_for_a_while_after_a_failure():
    from app.redis_store import Breaker

    now = [100.0]
    breaker = Breaker(seconds=5, clock=lambda: now[0])
    assert breaker.closed
    breaker.trip()
    assert not breaker.closed
    now[0] += 4.9
    assert not breaker.closed
    now[0] += 0.2
    assert breaker.closed  # tries Redis again
