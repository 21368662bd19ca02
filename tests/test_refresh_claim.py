"""Claim, commit, call, write: no database lock is held while Kit answers.

The token endpoint is made to hang (the sandbox's "hang" fault holds the
request until the test releases it), and the tests assert what happens
meanwhile, by order of events, never by duration: other work on the database
goes on, other connections refresh at the same time, a claim left by a dead
worker is taken over, a wait that gives up is a 503 with Retry-After.
Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests import workers
from tests.support.accounts import create_user, sign_in, sign_up
from tests.support.grants import spent_refresh_tokens
from tests.support.installing import connect_with_days, connected, granted, install
from tests.support.rows import (
    connections,
    event_kinds,
    expire_stored_token,
    set_stored,
    stored,
)
from tests.support.settings import PG_URL, app_settings


def until(condition: Callable[[], object], seconds: float = 30) -> None:
    """Wait for `condition` (a state, not a duration); fail if it never holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def signed_in_copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser with the same session: one test client per thread."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def token_of(app: Flask, connection_id: int) -> str:
    with app.app_context():
        return workers.access_token(app, connection_id)


def test_a_hung_refresh_does_not_block_other_database_work(make_app, kit):
    app, _ = granted(make_app, kit, KIT_HTTP_TIMEOUT=30)
    expire_stored_token(app)
    spent = stored(app).refresh_token
    kit.state.add_fault("token", "hang")
    with ThreadPoolExecutor(1) as pool:
        refreshing = pool.submit(token_of, app, 1)
        until(lambda: kit.state.hanging == 1)  # at Kit, claim committed
        # Meanwhile: a sign-up, a write to the very row being refreshed, and
        # a health check all complete.
        sign_up(app.test_client(), "second@example.com")
        set_stored(app, 1, account_name="Renamed meanwhile")
        assert app.test_client().get("/healthz").status_code == 200
        assert not refreshing.done()  # ... while the refresh is still pending
        kit.state.release_hangs()
        token = refreshing.result(timeout=30)
    row = stored(app)
    assert (row.access_token, row.account_name) == (token, "Renamed meanwhile")
    assert row.refresh_token != spent
    assert row.refresh_claim is None  # released


def test_six_connections_refresh_at_once_while_kit_hangs(make_app, kit):
    """On SQLite a lock held across the call let one refresh through at a
    time, and the others failed with "database is locked" (a 500)."""
    app = make_app(
        KIT_CACHE_SECONDS=0,
        KIT_HTTP_TIMEOUT=30,
        # Room for all six pages to wait on Kit at once (app/kit_capacity.py).
        KIT_REQUESTS_PER_WORKER=6,
        KIT_REQUESTS_PER_USER=6,
    )
    client = app.test_client()
    create_user(app)
    sign_in(client)
    for account in sorted(kit.state.accounts):
        connect_with_days(app, kit, account)
        connect_with_days(app, kit, account, tenant_name="Shop")
    ids = [row.id for row in connections(app)]
    assert len(ids) == 6
    expire_stored_token(app)  # all of them
    kit.state.expire_access_tokens()
    kit.state.add_fault("token", "hang", times=6)
    browsers = [signed_in_copy(app, client) for _ in ids]
    with ThreadPoolExecutor(len(ids)) as pool:
        pages = [
            pool.submit(browser.get, f"/c/{connection_id}")
            for browser, connection_id in zip(browsers, ids, strict=True)
        ]
        until(lambda: kit.state.hanging == 6)  # six refreshes at Kit at once
        kit.state.release_hangs()
        statuses = [page.result(timeout=60).status_code for page in pages]
    assert statuses == [200] * 6
    assert kit.state.stats()["refresh_requests"] == 6
    assert all(row.refresh_claim is None for row in connections(app))


def test_a_claim_left_by_a_dead_worker_is_waited_for_then_taken_over(
    make_app, kit, database_url
):
    # The page's wait is bounded by KIT_TOKEN_TIMEOUT + 1 s: 3 s here, not the
    # default 31 s (the dead worker's claim, on its own settings, outlives it).
    app, client = connected(make_app, kit, KIT_HTTP_TIMEOUT=0.5, KIT_TOKEN_TIMEOUT=2)
    expire_stored_token(app)
    spent = stored(app).refresh_token
    # A worker in another process claims the refresh and dies at Kit's door
    # (the sandbox stalls its request, then answers 504: no token is spent).
    kit.state.timeout_seconds = 3
    kit.state.add_fault("token", "timeout")
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(1), context.Queue()
    settings = app_settings(kit, database_url, KIT_HTTP_TIMEOUT=30)
    doomed = context.Process(
        target=workers.refresh_storm, args=(settings, 1, 1, start, results)
    )
    doomed.start()
    until(lambda: spent_refresh_tokens(kit) or doomed.exitcode is not None)
    assert doomed.exitcode is None, results.get(timeout=5)  # its refresh is at Kit
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(timeout=10)
    left = stored(app)
    assert left.refresh_claim is not None
    assert left.refresh_claimed_until > datetime.now(UTC)

    # While the claim runs, a page waits for it (bounded), then says so.
    busy = client.get("/dashboard")
    assert busy.status_code == 503
    assert busy.headers["Retry-After"]
    assert "Reconnect needed" not in busy.text
    assert spent_refresh_tokens(kit) == [spent]  # nobody else went to Kit

    # Its time passes (as if the claim's lifetime were over): taken over.
    set_stored(app, 1, refresh_claimed_until=datetime.now(UTC) - timedelta(seconds=1))
    assert client.get("/dashboard").status_code == 200
    row = stored(app)
    assert spent_refresh_tokens(kit) == [spent, spent]  # the first did no work
    assert row.refresh_token != spent
    assert (row.status, row.refresh_claim) == ("active", None)
    assert event_kinds(app)[-1] == "refreshed"


def test_a_disconnect_holds_no_lock_while_kit_revokes(make_app, kit):
    app, client = connected(make_app, kit, KIT_HTTP_TIMEOUT=30)
    before = stored(app)
    kit.state.add_fault("revoke", "hang")
    with ThreadPoolExecutor(1) as pool:
        leaving = pool.submit(client.post, "/connections/1/disconnect")
        until(lambda: kit.state.hanging == 1)
        set_stored(app, 1, account_name="Renamed meanwhile")
        assert not leaving.done()
        kit.state.release_hangs()
        assert leaving.result(timeout=30).status_code == 302
    row = stored(app)
    assert (row.status, row.access_token, row.refresh_token) == ("revoked", None, None)
    assert row.refresh_claim is None
    assert kit.state.find_refresh_token(before.refresh_token).revoked


def test_a_disconnect_during_a_refresh_revokes_the_new_refresh_token(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    expire_stored_token(app)
    spent = stored(app).refresh_token
    kit.state.add_fault("token", "hang")
    with ThreadPoolExecutor(2) as pool:
        refreshing = pool.submit(token_of, app, 1)
        until(lambda: kit.state.hanging == 1)
        leaving = pool.submit(client.post, "/connections/1/disconnect")
        kit.state.release_hangs()
        refreshing.result(timeout=30)
        assert leaving.result(timeout=30).status_code == 302
    [revoked, *_] = kit.state.revoke_requests
    assert revoked["params"]["token"] != spent  # the pair the refresh wrote
    assert kit.state.find_refresh_token(revoked["params"]["token"]).revoked
    assert stored(app).status == "revoked"


def test_a_database_lock_wait_that_gives_up_is_a_503_not_a_500(make_app, kit):
    """Someone holds the row's lock for longer than we wait: the page says
    to try again (SQLite's busy timeout, PostgreSQL's lock_timeout)."""
    from app.kit.locking import locked_connection

    short_wait = {"options": "-c lock_timeout=100"} if PG_URL else {"timeout": 0.1}
    app, client = connected(
        make_app, kit, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": short_wait}
    )
    expire_stored_token(app)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with app.app_context(), locked_connection(1):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        page = client.get("/dashboard")
    finally:
        release.set()
        holder.join(30)
    assert page.status_code == 503
    assert page.headers["Retry-After"]
    assert "Try again" in page.text
    assert client.get("/dashboard").status_code == 200  # the lock is gone


def test_a_waiter_waits_as_long_as_the_token_endpoint_may_take(make_app, kit):
    """The waiters' bound follows KIT_TOKEN_TIMEOUT, not the API timeout: a
    refresh Kit answers after 2 s (API timeout 0.5 s) serves every caller."""
    app, _ = granted(make_app, kit, KIT_HTTP_TIMEOUT=0.5, KIT_TOKEN_TIMEOUT=5)
    expire_stored_token(app)
    spent = stored(app).refresh_token
    kit.state.timeout_seconds = 2
    kit.state.add_fault("token", "hang")
    with ThreadPoolExecutor(2) as pool:
        refreshing = pool.submit(token_of, app, 1)
        until(lambda: kit.state.hanging == 1)  # claim committed, at Kit
        waiting = pool.submit(token_of, app, 1)
        tokens = {refreshing.result(timeout=30), waiting.result(timeout=30)}
    assert tokens == {stored(app).access_token}
    assert spent_refresh_tokens(kit) == [spent]
