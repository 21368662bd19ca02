"""A token pair Kit issued is never dropped (issue 19, item 2).

Kit rotates refresh tokens: once it has answered a refresh, the pair it sent
is the only live copy of the creator's grant. These tests make each way of
losing it happen for real: a token endpoint slower than an API call, one that
never answers in time, a database that refuses the write just after Kit
answered, a worker killed between Kit's answer and the write. The sandbox's
"hang" fault holds a token request for `timeout_seconds` (or until released)
and then does its real work: the rotation happens whether or not we waited.
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

from app.kit.locking import locked_connection, take_claim
from tests import workers
from tests.support.grants import reads_account, refresh_at_kit, spent_refresh_tokens
from tests.support.installing import connected, granted
from tests.support.rows import expire_stored_token, set_stored, stored
from tests.support.settings import PG_URL, TEST_ENCRYPTION_KEY, app_settings

BLAMING = "Kit no longer accepts this app's access"
LOST = "Kit may have issued new keys we never received"


def until(condition: Callable[[], object], seconds: float = 30) -> None:
    """Wait for `condition` (a state, not a duration); fail if it never holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["kit", *args])
    return str(result.output)


def test_a_token_endpoint_slower_than_api_calls_still_refreshes(make_app, kit):
    """Kit answers the refresh after 2 s: past the API timeout (1 s), within
    the token endpoint's own (4 s)."""
    app, client = connected(make_app, kit, KIT_HTTP_TIMEOUT=1, KIT_TOKEN_TIMEOUT=4)
    expire_stored_token(app)
    spent = stored(app).refresh_token
    kit.state.timeout_seconds = 2
    kit.state.add_fault("token", "hang")

    assert client.get("/dashboard").status_code == 200
    row = stored(app)
    assert (row.status, row.last_error, row.refresh_claim) == ("active", None, None)
    assert row.refresh_token != spent
    assert spent_refresh_tokens(kit) == [spent]  # exactly one rotation
    assert reads_account(kit, row.access_token) == 200


def test_a_refresh_kit_never_answers_is_an_unknown_outcome_not_the_creators_fault(
    make_app, kit
):
    app, client = connected(make_app, kit, KIT_HTTP_TIMEOUT=0.5, KIT_TOKEN_TIMEOUT=1)
    expire_stored_token(app)
    spent = stored(app).refresh_token
    kit.state.timeout_seconds = 30
    kit.state.add_fault("token", "hang")

    assert client.get("/dashboard").status_code == 503  # we gave up waiting
    kit.state.release_hangs()  # ... and Kit rotates anyway: we never hear of it
    until(lambda: kit.state.find_refresh_token(spent).revoked)
    row = stored(app)
    assert (row.status, row.refresh_token) == ("active", spent)
    assert "Checking with Kit" in client.get("/connections/1").text
    assert "refresh outcome unknown" in cli(app, "connections")

    # The next request tries the same refresh token once; Kit refuses it. We
    # cannot tell a revoked grant from a pair lost in transit: say so.
    page = client.get("/dashboard")
    assert "Reconnect needed" in page.text
    assert LOST in page.text
    assert BLAMING not in page.text
    row = stored(app)
    assert row.status == "needs_reconnect"
    assert "refresh outcome unknown" in (row.last_error or "").lower()
    assert spent_refresh_tokens(kit) == [spent, spent]  # once more, never in a loop
    client.get("/dashboard")
    assert spent_refresh_tokens(kit) == [spent, spent]
    assert LOST in client.get("/connections/1").text
    assert "refresh outcome unknown" in cli(app, "connections")
    assert "refresh outcome unknown" in cli(app, "doctor")


def test_a_pair_the_database_refuses_is_kept_encrypted_then_written(
    make_app, kit, tmp_path
):
    """Kit answered, but the database refuses the write for longer than the
    app retries it (a row/write lock held elsewhere; on SQLite BEGIN
    IMMEDIATE past the busy timeout, on PostgreSQL past lock_timeout)."""
    spool = tmp_path / "pending"
    short_wait = {"options": "-c lock_timeout=200"} if PG_URL else {"timeout": 0.2}
    app, client = connected(
        make_app,
        kit,
        KIT_HTTP_TIMEOUT=1,
        KIT_PENDING_PAIRS_DIR=str(spool),
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": short_wait},
    )
    expire_stored_token(app)
    before = stored(app)
    kit.state.timeout_seconds = 30
    kit.state.add_fault("token", "hang")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with app.app_context(), locked_connection(1):
            holding.set()
            release.wait(60)

    with ThreadPoolExecutor(2) as pool:
        page = pool.submit(client.get, "/dashboard")
        until(lambda: kit.state.hanging == 1)  # claim committed, the call at Kit
        holder = pool.submit(hold)
        assert holding.wait(30)
        kit.state.release_hangs()  # Kit rotates and answers; the write is refused
        try:
            refused = page.result(timeout=60)
            kept = sorted(spool.glob("*"))
        finally:
            release.set()
            holder.result(timeout=30)
    assert refused.status_code == 503
    assert len(kept) == 1
    blob = kept[0].read_bytes()
    assert stored(app).refresh_token == before.refresh_token  # not written yet

    # The database is back: the next request writes the kept pair rather than
    # spend the refresh token Kit has already killed.
    assert client.get("/dashboard").status_code == 200
    row = stored(app)
    assert (row.status, row.last_error) == ("active", None)
    assert row.refresh_token != before.refresh_token
    assert spent_refresh_tokens(kit) == [before.refresh_token]  # never used again
    assert reads_account(kit, row.access_token) == 200
    assert not list(spool.glob("*"))
    for secret in (
        row.access_token,
        row.refresh_token,
        before.access_token,
        before.refresh_token,
    ):
        assert secret.encode() not in blob


def test_a_worker_killed_while_the_database_makes_it_wait_leaves_the_pair(
    make_app, kit, tmp_path, database_url
):
    """Kit answered; the worker waits for the database (a write lock held
    elsewhere) and is killed (SIGKILL) meanwhile. The pair is already on disk:
    the next request writes it, and the spent refresh token is never sent
    again."""
    spool = tmp_path / "pending"
    app, client = connected(make_app, kit, KIT_PENDING_PAIRS_DIR=str(spool))
    expire_stored_token(app)
    before = stored(app)
    kit.state.timeout_seconds = 30
    kit.state.add_fault("token", "hang")
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(1), context.Queue()
    settings = app_settings(
        kit, database_url, KIT_PENDING_PAIRS_DIR=str(spool), KIT_HTTP_TIMEOUT=30
    )
    doomed = context.Process(
        target=workers.refresh_storm, args=(settings, 1, 1, start, results)
    )
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with app.app_context(), locked_connection(1):
            holding.set()
            release.wait(60)

    doomed.start()
    with ThreadPoolExecutor(1) as pool:
        holder = pool.submit(holding.wait, 0)  # replaced once Kit has the call
        try:
            until(lambda: kit.state.hanging == 1 or doomed.exitcode is not None)
            assert doomed.exitcode is None, results.get(timeout=5)
            holder = pool.submit(hold)
            assert holding.wait(30)
            kit.state.release_hangs()  # Kit rotates and answers; the write waits
            until(lambda: list(spool.glob("*.pair")), seconds=15)
            assert doomed.exitcode is None  # still waiting for the database
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.join(timeout=10)
        finally:
            release.set()
            if doomed.is_alive():
                doomed.kill()
    holder.result(timeout=30)
    assert stored(app).refresh_token == before.refresh_token  # never written

    assert client.get("/dashboard").status_code == 200
    row = stored(app)
    assert (row.status, row.last_error) == ("active", None)
    assert row.refresh_token != before.refresh_token
    assert spent_refresh_tokens(kit) == [before.refresh_token]
    assert reads_account(kit, row.access_token) == 200
    assert not list(spool.glob("*.pair"))


def test_a_pair_kept_while_the_database_was_down_is_written_by_the_sweep(
    make_app, kit, tmp_path
):
    """No request comes: beat's refresh-due (and the command) replay the kept
    pairs first, checking each is newer than the stored one."""
    spool = tmp_path / "pending"
    app, _ = granted(make_app, kit, KIT_PENDING_PAIRS_DIR=str(spool))
    from app.kit import oauth  # here: app.kit.spool is what this test is about
    from app.kit import spool as pending

    before = stored(app)
    with app.app_context():
        settings = app.extensions["kit_settings"]
        new = oauth.refresh(settings, before.refresh_token)
        pending.keep(1, before.refresh_token, new)
        pending.keep(1, "a refresh token this row never held", new)
    assert len(list(spool.glob("*"))) == 2
    output = cli(app, "refresh-due", "--within", "1m")
    assert "1 kept token pair written" in output
    row = stored(app)
    assert (row.access_token, row.refresh_token) == (
        new.access_token,
        new.refresh_token,
    )
    assert not list(spool.glob("*"))  # the stale one is dropped, never stored
    assert spent_refresh_tokens(kit) == [before.refresh_token]


def test_a_claim_left_by_a_killed_worker_after_kit_rotated_is_an_unknown_outcome(
    make_app, kit
):
    app, client = connected(make_app, kit)
    expire_stored_token(app)
    spent = stored(app).refresh_token
    # A worker claims the refresh, Kit rotates, the worker is killed (SIGKILL)
    # before it writes the pair: nothing of it is left but its claim.
    with app.app_context(), locked_connection(1) as (_, row):
        take_claim(row, 60)
    assert refresh_at_kit(kit, spent).status_code == 200
    set_stored(app, 1, refresh_claimed_until=datetime.now(UTC) - timedelta(seconds=1))

    page = client.get("/dashboard")
    assert LOST in page.text
    assert BLAMING not in page.text
    row = stored(app)
    assert row.status == "needs_reconnect"
    assert "refresh outcome unknown" in (row.last_error or "").lower()
    assert "refresh outcome unknown" in cli(app, "connections")


def test_a_plain_invalid_grant_still_says_the_grant_is_gone(make_app, kit):
    app, client = connected(make_app, kit)
    expire_stored_token(app)
    kit.state.add_fault("token", "invalid_grant")
    page = client.get("/dashboard")
    assert BLAMING in page.text
    assert LOST not in page.text
    assert "refresh outcome unknown" not in cli(app, "connections")


def test_doctor_names_kept_pairs_and_rotate_keys_re_encrypts_them(
    make_app, kit, tmp_path
):
    from cryptography.fernet import Fernet

    from app.kit import spool as pending
    from app.kit.oauth import TokenSet

    folder = tmp_path / "pending"
    app, _ = granted(make_app, kit, KIT_PENDING_PAIRS_DIR=str(folder))
    pair = TokenSet(
        "access-kept", "refresh-kept", datetime.now(UTC) + timedelta(hours=2)
    )
    with app.app_context():
        pending.keep(1, "refresh-spent", pair)
    assert "1 pair(s) kept on disk" in cli(app, "doctor")
    assert "kept on disk" in cli(app, "connections")

    # A new key in front: rotate-keys re-encrypts the kept pair too.
    new_key = Fernet.generate_key().decode()
    both = make_app(
        KIT_PENDING_PAIRS_DIR=str(folder),
        TOKEN_ENCRYPTION_KEYS=f"{new_key},{TEST_ENCRYPTION_KEY}",
    )
    assert both.test_cli_runner().invoke(args=["kit", "rotate-keys"]).exit_code == 0
    only_new = make_app(
        KIT_PENDING_PAIRS_DIR=str(folder), TOKEN_ENCRYPTION_KEYS=new_key
    )
    with only_new.app_context():
        assert [kept.tokens for kept in pending.kept()] == [pair]
    # With the new key gone, the pair is unreadable: the doctor fails it.
    assert "FAIL token pairs: 1 kept pair(s) decrypt with no" in cli(app, "doctor")
