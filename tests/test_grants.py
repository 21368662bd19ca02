"""No grant left alive at Kit: every pair the app stops using is revoked.

A reinstall replaces the pair, an install fails after the code exchange, two
installs of one account race: each time the pair the app drops is retired
(app/kit/grants.py) and revoked at Kit by a job, retried by beat's sweep while
Kit is unavailable. The sandbox says which grants are still alive.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery import signals
from celery.result import allow_join_result
from sqlalchemy import delete, event

from app.extensions import db
from app.jobs.schedule import BEAT_SCHEDULE
from app.kit import grants
from app.kit.grants import MAX_ATTEMPTS
from app.models import ConnectionEvent, KitConnection, RetiredGrant
from tests.support.accounts import PASSWORD
from tests.support.grants import (
    live_grants,
    reads_account,
    refresh_at_kit,
    retired_grants,
    set_retired,
)
from tests.support.installing import first_account, install, start_install
from tests.support.rows import connections, event_kinds, stored

REVOKE_GRANT = "app.jobs.grants.revoke_grant"
SWEEP = "app.jobs.grants.revoke_due_grants"


def _sweep(app) -> int:  # type: ignore[no-untyped-def]
    """Beat's "revoke-retired-grants", run here (eager)."""
    with app.app_context():
        return int(app.extensions["celery"].tasks[SWEEP].delay().get())


def _make_due(app) -> None:  # type: ignore[no-untyped-def]
    set_retired(app, next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))


def _assert_dead(kit, access_token: str, refresh_token: str) -> None:  # type: ignore[no-untyped-def]
    assert reads_account(kit, access_token) == 401
    refused = refresh_at_kit(kit, refresh_token)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def _reinstall_with_kit_revoke_down(app, client, kit, kit_browser):  # type: ignore[no-untyped-def]
    """Install, then install again while Kit's revoke endpoint fails once;
    returns the replaced connection row."""
    install(client, kit_browser)
    old = stored(app)
    kit.state.add_fault("revoke", "500")
    assert install(client, kit_browser).status_code == 302
    return old


def test_reinstall_revokes_the_replaced_pair_and_keeps_the_new_one(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    old = stored(app)
    assert install(client, kit_browser).status_code == 302
    new = stored(app)

    assert new.access_token != old.access_token
    _assert_dead(kit, old.access_token, old.refresh_token)
    assert reads_account(kit, new.access_token) == 200
    assert len(live_grants(kit, first_account(kit).id)) == 1
    assert retired_grants(app) == []  # revoked, so forgotten
    # The refresh token first: it ends the grant.
    assert [r["params"]["token_type_hint"] for r in kit.state.revoke_requests] == [
        "refresh_token",
        "access_token",
    ]
    assert event_kinds(app) == [ConnectionEvent.CONNECTED, ConnectionEvent.RECONNECTED]


def test_failed_account_read_after_the_exchange_revokes_the_new_pair(
    app, client, kit, kit_browser, user
):
    kit.state.add_fault("api", "500", times=4)  # every retry of GET /v4/account
    response = install(client, kit_browser)

    assert response.status_code == 503
    assert "Kit is unavailable" in response.text
    assert connections(app) == []
    [issued] = kit.state.token_sets
    _assert_dead(kit, issued.access_token, issued.refresh_token)
    assert live_grants(kit, first_account(kit).id) == []
    assert retired_grants(app) == []


def test_two_installs_of_one_account_at_once_give_one_connection_and_one_grant(
    app, client, kit, kit_browser, user
):
    """Two tabs of one user finish the install together: both find no row
    and both insert; the second insert loses and replaces the first's pair."""
    second = app.test_client()
    second.post("/login", data={"email": user, "password": PASSWORD})
    tabs = (client, second)
    callbacks = [kit_browser.consent(start_install(tab).location) for tab in tabs]
    # Hold each INSERT of a connection until both installs are about to insert:
    # both have looked for the row and found none.
    both_inserting = threading.Barrier(2, timeout=30)

    def hold(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO KIT_CONNECTIONS"):
            both_inserting.wait()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hold)
    # allow_join_result restores Celery's process-wide "no .get() here" flag,
    # which two threads running eager tasks at once can leave set.
    try:
        with allow_join_result(), ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda tab, url: tab.get(url), tabs, callbacks))
    finally:
        event.remove(engine, "before_cursor_execute", hold)

    assert [a.status_code for a in answers] == [302, 302]
    [connection] = connections(app)
    [alive] = live_grants(kit, first_account(kit).id)
    assert reads_account(kit, connection.access_token) == 200
    assert len(kit.state.token_sets) == 2
    [dropped] = [
        t for t in kit.state.token_sets if t.access_token != connection.access_token
    ]
    _assert_dead(kit, dropped.access_token, dropped.refresh_token)
    assert retired_grants(app) == []
    assert event_kinds(app, connection.id) == [
        ConnectionEvent.CONNECTED,
        ConnectionEvent.RECONNECTED,
    ]


def test_kit_unavailable_at_revoke_keeps_the_pair_until_the_sweep_revokes_it(
    app, client, kit, kit_browser, user
):
    old = _reinstall_with_kit_revoke_down(app, client, kit, kit_browser)

    [retired] = retired_grants(app)
    assert (retired.connection_id, retired.reason) == (1, RetiredGrant.REPLACED)
    assert retired.attempts == 1
    assert "500" in retired.last_error
    assert retired.next_attempt_at > datetime.now(UTC)  # backing off
    assert retired.access_token == old.access_token
    assert reads_account(kit, old.access_token) == 200  # still alive at Kit

    assert _sweep(app) == 0  # not due yet
    assert len(retired_grants(app)) == 1

    _make_due(app)
    assert _sweep(app) == 1
    assert retired_grants(app) == []
    _assert_dead(kit, old.access_token, old.refresh_token)
    assert reads_account(kit, stored(app).access_token) == 200
    assert len(live_grants(kit, first_account(kit).id)) == 1


def test_revocation_gives_up_after_max_attempts_and_keeps_the_row(
    app, client, kit, kit_browser, user, caplog
):
    old = _reinstall_with_kit_revoke_down(app, client, kit, kit_browser)
    set_retired(app, attempts=MAX_ATTEMPTS - 1)
    _make_due(app)
    kit.state.add_fault("revoke", "500")

    with caplog.at_level(logging.ERROR, logger="app.kit.grants"):
        assert _sweep(app) == 1
    [retired] = retired_grants(app)
    assert retired.attempts == MAX_ATTEMPTS
    assert retired.next_attempt_at is None
    assert "Gave up revoking retired grant" in caplog.text
    assert old.access_token not in caplog.text
    assert old.refresh_token not in caplog.text

    assert _sweep(app) == 0  # no longer retried by itself
    assert len(retired_grants(app)) == 1


def test_a_retired_pair_outlives_its_deleted_connection(
    app, client, kit, kit_browser, user
):
    old = _reinstall_with_kit_revoke_down(app, client, kit, kit_browser)
    with app.app_context():
        db.session.execute(delete(KitConnection))
        db.session.commit()
    [retired] = retired_grants(app)
    assert retired.connection_id is None

    _make_due(app)
    assert _sweep(app) == 1
    _assert_dead(kit, old.access_token, old.refresh_token)
    assert retired_grants(app) == []


def test_only_the_row_id_goes_through_the_broker_and_a_lost_message_is_swept(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    old = stored(app)
    celery = app.extensions["celery"]
    celery.conf.task_always_eager = False  # as with Redis: nothing runs them
    published: list[tuple[str, Any]] = []

    def publishing(sender: str, body: Any, **_: Any) -> None:
        published.append((sender, body))

    signals.before_task_publish.connect(publishing)
    try:
        assert install(client, kit_browser).status_code == 302
    finally:
        signals.before_task_publish.disconnect(publishing)
        with celery.connection_for_write() as connection:
            connection.default_channel.queue_purge("celery")  # the message is lost
        celery.conf.task_always_eager = True

    [retired] = retired_grants(app)
    assert [(name, body[0]) for name, body in published if name == REVOKE_GRANT] == [
        (REVOKE_GRANT, (retired.id,))
    ]
    sent = repr(published)
    assert old.access_token not in sent
    assert old.refresh_token not in sent

    assert _sweep(app) == 0  # its lease has not run out
    _make_due(app)
    assert _sweep(app) == 1
    _assert_dead(kit, old.access_token, old.refresh_token)


def test_a_pair_retired_without_a_job_is_revoked_by_the_next_sweep(app, kit):
    """`retire(..., queued=False)`: for code in app.kit that cannot queue."""
    testing = pytest.importorskip("kit_sandbox.testing")
    pair = testing.real_grant(kit)
    with app.app_context():
        grants.retire(
            db.session,
            pair["access_token"],
            pair["refresh_token"],
            RetiredGrant.LOST_RACE,
            queued=False,
        )
        db.session.commit()
    assert reads_account(kit, pair["access_token"]) == 200
    assert _sweep(app) == 1
    _assert_dead(kit, pair["access_token"], pair["refresh_token"])
    assert retired_grants(app) == []


def test_beat_sweeps_the_retired_grants(app):
    entry = BEAT_SCHEDULE["revoke-retired-grants"]
    assert entry["task"] == SWEEP
    assert {SWEEP, REVOKE_GRANT} <= set(app.extensions["celery"].tasks)


def test_cli_counts_the_pairs_waiting_to_be_revoked(
    app, client, kit, kit_browser, user, runner
):
    old = _reinstall_with_kit_revoke_down(app, client, kit, kit_browser)
    listed = runner.invoke(args=["kit", "connections"])
    assert listed.exit_code == 0, listed.output
    assert "1 retired token pair waiting to be revoked at Kit" in listed.output
    assert old.access_token not in listed.output


@pytest.mark.parametrize("reason", ["replaced", "orphaned"])
def test_retired_pairs_are_encrypted_at_rest(
    app, client, kit, kit_browser, user, reason
):
    if reason == "orphaned":
        kit.state.add_fault("api", "500", times=4)
        kit.state.add_fault("revoke", "500")
        install(client, kit_browser)
        [issued] = kit.state.token_sets
        token = issued.access_token
    else:
        token = _reinstall_with_kit_revoke_down(
            app, client, kit, kit_browser
        ).access_token
    with app.app_context():
        raw = db.session.execute(
            db.text("SELECT access_token, refresh_token, reason FROM retired_grants")
        ).one()
    assert raw.reason == reason
    assert token not in raw.access_token
    assert raw.access_token != raw.refresh_token
