"""A refresh storm spends the refresh token once: threads, then processes.

Every caller needs a refresh at the same moment (token expired here and at
Kit). With Kit's rotating refresh tokens, a second refresh with the old token
would get `invalid_grant` and look like an uninstall. The sandbox counts the
refresh requests that reach it: exactly one, and every caller gets a token Kit
accepts. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import KitConnection
from tests import workers
from tests.support.installing import connect
from tests.support.rows import expire_stored_token, set_expiry, stored
from tests.support.settings import PG_URL, app_settings

CALLERS = 20
PROCESSES = 4


def _connection_needing_refresh(app, kit) -> None:  # type: ignore[no-untyped-def]
    connect(app, kit)
    expire_stored_token(app)
    kit.state.expire_access_tokens()
    # Slow Kit down so that every caller is waiting while the first refreshes.
    kit.config.latency_ms = 150


def _assert_one_refresh_and_working_tokens(kit, tokens: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert kit.state.stats()["refresh_requests"] == 1
    assert len(tokens) == CALLERS
    assert len(set(tokens)) == 1
    kit.config.latency_ms = 0
    account = requests.get(
        f"{kit.url}/v4/account",
        headers={"Authorization": f"Bearer {tokens[0]}"},
        timeout=5,
    )
    assert account.status_code == 200


def test_twenty_threads_refresh_once(app, kit, user):
    _connection_needing_refresh(app, kit)
    start = threading.Barrier(CALLERS)

    def caller(_: int) -> str:
        with app.app_context():
            start.wait()
            return workers.access_token(app, 1)

    with ThreadPoolExecutor(CALLERS) as pool:
        tokens = list(pool.map(caller, range(CALLERS)))
    _assert_one_refresh_and_working_tokens(kit, tokens)
    with app.app_context():
        row = db.session.get(KitConnection, 1)
        assert row.access_token == tokens[0]
        assert row.expires_at > datetime.now(UTC)


def test_four_processes_of_five_threads_refresh_once(app, kit, user, database_url):
    _connection_needing_refresh(app, kit)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    settings = app_settings(kit, database_url)
    processes = [
        context.Process(
            target=workers.refresh_storm,
            args=(settings, 1, CALLERS // PROCESSES, start, results),
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    errors = [o for o in outcomes if isinstance(o, str)]
    assert not errors, errors
    tokens = [token for outcome in outcomes for token in outcome]
    _assert_one_refresh_and_working_tokens(kit, tokens)


def test_two_refresh_due_runs_at_once_refresh_each_connection_once(app, kit, user):
    from app.kit.refresh_due import refresh_due

    for account in sorted(kit.state.accounts):
        connect(app, kit, account=account)
    set_expiry(app, None, minutes=5)  # every connection
    kit.config.latency_ms = 100
    start = threading.Barrier(2)

    def run(_: int):  # type: ignore[no-untyped-def]
        with app.app_context():
            start.wait()
            return refresh_due(app.extensions["kit_settings"], timedelta(minutes=30))

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(run, range(2))
    due = len(kit.state.accounts)
    assert kit.state.stats()["refresh_requests"] == due
    assert first["refreshed"] + second["refreshed"] == due
    assert first["fresh"] + second["fresh"] == due
    assert first["failed"] == second["failed"] == 0


def test_twenty_callers_refused_with_a_401_refresh_once(app, kit, user):
    """Every caller's call with the same token gets a 401: one refresh, then
    every retry uses its token (no chain of refreshes, one per caller)."""
    from app.kit.api import request
    from app.kit.tokens import call_with_token

    connect(app, kit)
    kit.state.expire_access_tokens()  # Kit: 401 "expired"; our copy looks valid
    settings = app.extensions["kit_settings"]
    holding = threading.Barrier(CALLERS)
    used: list[str] = []

    def caller(_: int) -> str:
        def call(token: str) -> str:
            used.append(token)
            if len(used) <= CALLERS:
                holding.wait()  # all hold the old token before any refreshes
            return request(settings, token, "GET", "account")["account"]["name"]

        with app.app_context():
            return call_with_token(1, settings, call)

    with ThreadPoolExecutor(CALLERS) as pool:
        names = list(pool.map(caller, range(CALLERS)))
    assert len(set(names)) == 1
    assert kit.state.stats()["refresh_requests"] == 1
    first, retries = used[:CALLERS], used[CALLERS:]
    assert len(set(first)) == len(set(retries)) == 1
    assert retries[0] == stored(app).access_token != first[0]


@pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL only: set TEST_DATABASE_URL (.ci/run does)"
)
def test_postgres_locks_the_row_not_the_table(app, kit, user):
    from app.kit.locking import locked_connection

    connect(app, kit, account=min(kit.state.accounts))
    connect(app, kit, account=max(kit.state.accounts))
    holding, release = threading.Event(), threading.Event()

    def hold_first() -> None:
        with app.app_context(), locked_connection(1):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_first)
    holder.start()
    assert holding.wait(10)
    try:
        with app.app_context():
            with locked_connection(2) as (_, other):  # another row: no wait
                assert other.id == 2
            with db.engine.connect() as probe:  # the held row: would wait
                probe.exec_driver_sql("SET lock_timeout = '200ms'")
                with pytest.raises(OperationalError):
                    probe.exec_driver_sql(
                        "SELECT id FROM kit_connections WHERE id = 1 FOR UPDATE"
                    )
    finally:
        release.set()
        holder.join()
