""" "Delete my data" and retention: the creator deletes the Kit data kept for
a connection (with a confirm step; the connection stays); the jobs that
enforce how long data is kept (webhook events by WEBHOOK_EVENTS_KEPT_DAYS,
stored days past what the overview reads, and everything of a connection
whose access Kit ended RECONNECT_GRACE_DAYS ago, as after an uninstall in
Kit); and a disconnect removes it all at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.creator_data.kept import FIGURES_KEPT_DAYS
from app.creator_data.tasks import forget_lost_access, prune_growth_days
from app.jobs.schedule import BEAT_SCHEDULE
from app.kit_cache import generation
from app.webhooks.tasks import prune_webhook_events
from tests.support.accounts import create_user, csrf_token, sign_in
from tests.support.installing import connect, first_account, granted
from tests.support.rows import (
    add_connection,
    add_growth_days,
    add_history,
    event_kinds,
    expire_stored_token,
    growth_days,
    stored,
)
from tests.support.webhooks import add_endpoint, add_events, endpoint_of, stored_events


def run(app, task, *args, **kwargs):  # type: ignore[no-untyped-def]
    with app.app_context():
        return task(*args, **kwargs)


def generation_of(app, connection_id: int = 1) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return generation(connection_id)


def with_data(app, connection_id: int = 1) -> None:  # type: ignore[no-untyped-def]
    add_events(
        app,
        [{"subscriber_email": f"s{n}@example.com"} for n in range(3)],
        connection_id=connection_id,
    )
    add_growth_days(app, connection_id, [date(2026, 11, 1), date(2026, 11, 2)])


# --- Delete my data ------------------------------------------------------------------


def test_delete_my_data_asks_first_then_deletes_and_keeps_the_connection(app, client):
    add_connection(app, account_name="Ada's list")
    theirs = add_connection(app, "other@example.com")
    with_data(app)
    with_data(app, theirs)
    assert sign_in(client).status_code == 302
    before = stored(app)
    cache_before = generation_of(app)

    asked = client.get("/kit/settings/1/delete")
    assert asked.status_code == 200
    assert "3 events of the activity feed" in asked.text
    assert "2 days of growth figures" in asked.text
    assert stored_events(app, 1)  # asking deletes nothing

    done = client.post("/kit/settings/1/delete")
    assert done.status_code == 302
    assert done.location == "/kit/settings?connection=1"
    assert "Deleted the data kept for Ada&#39;s list: 3 events and 2 days" in (
        client.get(done.location).text
    )
    assert stored_events(app, 1) == []
    assert growth_days(app, 1) == {}
    assert generation_of(app) != cache_before  # cached answers unreachable
    after = stored(app)
    assert (after.status, after.access_token, after.refresh_token) == (
        "active",
        before.access_token,
        before.refresh_token,
    )
    assert event_kinds(app) == ["data_deleted"]
    assert "Kit data deleted" in client.get("/connections/1").text
    # Another creator's data is untouched, and theirs is not ours to delete.
    assert len(stored_events(app, theirs)) == 3
    assert len(growth_days(app, theirs)) == 2
    assert client.post(f"/kit/settings/{theirs}/delete").status_code == 404
    assert client.get(f"/kit/settings/{theirs}/delete").status_code == 404
    assert len(stored_events(app, theirs)) == 3


def test_delete_needs_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    add_connection(app)
    with_data(app)
    assert sign_in(client, csrf=True).status_code == 302
    assert client.post("/kit/settings/1/delete").status_code == 400
    assert len(stored_events(app, 1)) == 3
    token = csrf_token(client.get("/kit/settings/1/delete"))
    done = client.post("/kit/settings/1/delete", data={"csrf_token": token})
    assert done.status_code == 302
    assert stored_events(app, 1) == []


# --- Retention -----------------------------------------------------------------------


def test_beat_runs_every_retention_job_daily(app):
    names = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    jobs = {
        "app.jobs.webhooks.prune_webhook_events",
        "app.creator_data.tasks.prune_growth_days",
        "app.creator_data.tasks.forget_lost_access",
    }
    assert jobs <= names
    assert jobs <= set(app.extensions["celery"].tasks)


def test_webhook_events_are_pruned_after_the_kept_days(make_app):
    app = make_app(WEBHOOK_EVENTS_KEPT_DAYS=7)
    add_connection(app)
    now = datetime.now(UTC)
    add_events(
        app,
        [
            {"event_id": "old", "received_at": now - timedelta(days=7, minutes=1)},
            {"event_id": "new", "received_at": now - timedelta(days=6, hours=23)},
        ],
    )
    assert run(app, prune_webhook_events) == 1
    assert [e.event_id for e in stored_events(app)] == ["new"]
    assert run(app, prune_webhook_events) == 0


def test_stored_days_older_than_the_overview_reads_are_pruned(app):
    add_connection(app)
    today = date(2026, 12, 7)
    kept = today - timedelta(days=FIGURES_KEPT_DAYS)
    add_growth_days(
        app, 1, [kept - timedelta(days=400), kept - timedelta(days=1), kept]
    )
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert run(app, prune_growth_days, now) == 2
    assert list(growth_days(app)) == [kept]
    assert run(app, prune_growth_days, now) == 0


def test_the_data_of_a_connection_that_lost_access_goes_after_the_grace(make_app):
    app = make_app(RECONNECT_GRACE_DAYS=30)
    now = datetime.now(UTC)
    lost_long_ago = add_connection(app, status="needs_reconnect")
    lost_lately = add_connection(app, "b@example.com", status="needs_reconnect")
    active = add_connection(app, "c@example.com")
    for connection_id, days_ago in [(lost_long_ago, 31), (lost_lately, 29)]:
        add_history(
            app, connection_id, "needs_reconnect", now - timedelta(days=days_ago)
        )
    for connection_id in (lost_long_ago, lost_lately, active):
        with_data(app, connection_id)
        add_endpoint(
            app, connection_id, "whsec-lost", key=f"key-of-{connection_id}-xxxxxxxx"
        )

    assert run(app, forget_lost_access) == 1
    assert stored_events(app, lost_long_ago) == []
    assert growth_days(app, lost_long_ago) == {}
    assert event_kinds(app, lost_long_ago)[-1] == "data_deleted"
    assert stored(app, lost_long_ago).status == "needs_reconnect"  # still listed
    # Its endpoint as a disconnect leaves it: Kit's deliveries get 410.
    assert (
        endpoint_of(app, lost_long_ago).status,
        endpoint_of(app, lost_long_ago).secret,
    ) == ("gone", None)
    assert endpoint_of(app, lost_lately).status == "active"
    for connection_id in (lost_lately, active):
        assert len(stored_events(app, connection_id)) == 3
        assert len(growth_days(app, connection_id)) == 2
    assert run(app, forget_lost_access) == 0  # nothing left to delete


def test_an_uninstall_in_kit_removes_the_data_after_the_grace(make_app, kit):
    """Kit sends no uninstall event: the next refresh gets invalid_grant, the
    connection needs reconnecting, and the daily job deletes its data once
    RECONNECT_GRACE_DAYS have passed."""
    app, client = granted(make_app, kit, RECONNECT_GRACE_DAYS=30)
    with_data(app)
    kit.state.revoke_all_for_account(first_account(kit).id)  # uninstalled
    expire_stored_token(app)
    page = client.get("/c/1")
    assert "Reconnect needed" in page.text
    assert stored(app).status == "needs_reconnect"

    assert run(app, forget_lost_access) == 0  # within the grace: kept
    assert len(stored_events(app)) == 3
    later = datetime.now(UTC) + timedelta(days=30, minutes=1)
    assert run(app, forget_lost_access, later) == 1
    assert stored_events(app) == []
    assert growth_days(app) == {}


def test_disconnect_removes_events_days_and_cached_answers(make_app, kit):
    app = make_app()  # Kit's answers cached, as by default
    client = app.test_client()
    create_user(app)
    assert sign_in(client).status_code == 302
    connect(app, kit)
    with_data(app)
    cache_before = generation_of(app)
    assert client.post("/connections/1/disconnect").status_code == 302
    assert stored(app).status == "revoked"
    assert stored_events(app) == []
    assert growth_days(app) == {}
    assert generation_of(app) != cache_before
