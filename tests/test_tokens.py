"""Token lifecycle: freshness, failures that keep the tokens, the audit trail.

Disconnect is test_disconnect.py, key rotation test_rotate_keys.py, the
proactive refresh test_refresh_due.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from app.kit.freshness import is_fresh
from app.models import KitConnection
from tests.support.accounts import create_user, sign_in
from tests.support.installing import connect_with_days, install
from tests.support.rows import event_kinds, expire_stored_token, stored

# --- freshness ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "left", "leeway", "fresh"),
    [
        (7200, 3600, 300, True),
        (7200, 200, 300, False),  # inside the leeway
        (7200, -10, 300, False),  # expired
        (600, 200, 300, False),  # leeway 300 is exactly half of 600
        (400, 250, 300, True),  # leeway capped at half the lifetime (200)
        (400, 210, 300, True),
        (400, 150, 300, False),
    ],
)
def test_freshness_uses_the_leeway_capped_at_half_the_lifetime(
    lifetime, left, leeway, fresh
):
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=left)
    connection = KitConnection(
        expires_at=expires, token_issued_at=expires - timedelta(seconds=lifetime)
    )
    assert is_fresh(connection, leeway, now) is fresh


# --- failures keep the tokens -------------------------------------------------------


@pytest.mark.parametrize("kind", ["500", "timeout", "not_json"])
def test_token_endpoint_failure_is_a_503_and_keeps_the_tokens(make_app, kit, kind):
    # "timeout": the sandbox answers 504 after 1.5 s, later than we wait.
    app = make_app(KIT_HTTP_TIMEOUT=0.5, KIT_TOKEN_TIMEOUT=0.5)
    kit.state.timeout_seconds = 1.5
    client = app.test_client()
    create_user(app)
    sign_in(client)
    connect_with_days(app, kit)
    expire_stored_token(app)
    before = stored(app)
    kit.state.add_fault("token", kind)

    page = client.get("/dashboard")
    assert page.status_code == 503
    assert "Kit is unavailable" in page.text
    after = stored(app)
    assert (
        after.access_token,
        after.refresh_token,
        after.expires_at,
        after.status,
    ) == (
        before.access_token,
        before.refresh_token,
        before.expires_at,
        "active",
    )
    assert event_kinds(app)[-1] == "refresh_failed"

    # Kit recovers; so does the next request, with no help.
    assert client.get("/dashboard").status_code == 200
    assert stored(app).refresh_token != before.refresh_token
    assert event_kinds(app)[-1] == "refreshed"


def test_an_outage_adds_one_failure_event_not_one_per_request(app, client, kit, user):
    connect_with_days(app, kit)
    expire_stored_token(app)
    kit.state.add_fault("token", "500", times=3)
    for _ in range(3):
        assert client.get("/dashboard").status_code == 503
    assert event_kinds(app).count("refresh_failed") == 1


def test_invalid_grant_marks_needs_reconnect_once_and_never_loops(
    app, client, kit, user
):
    connect_with_days(app, kit)
    expire_stored_token(app)
    kit.state.add_fault("token", "invalid_grant")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Reconnect needed" in page.text
    assert stored(app).status == "needs_reconnect"
    refreshes = kit.state.stats()["refresh_requests"]
    client.get("/dashboard")
    client.get("/connections/1")
    assert kit.state.stats()["refresh_requests"] == refreshes
    assert kit.state.stats()["revoke_requests"] == 0  # never revoked implicitly
    assert event_kinds(app) == ["connected", "needs_reconnect"]


def test_401_invalid_then_a_working_refresh_recovers(app, client, kit, user):
    connect_with_days(app, kit)
    kit.state.add_fault("api", "401_invalid")
    assert client.get("/dashboard").status_code == 200
    assert kit.state.stats()["refresh_requests"] == 1
    assert stored(app).status == "active"


def test_a_401_right_after_a_refresh_does_not_mark_the_connection(make_app, kit):
    app = make_app(KIT_CACHE_SECONDS=0)  # every page asks Kit
    client = app.test_client()
    create_user(app)
    sign_in(client)
    connect_with_days(app, kit)
    expire_stored_token(app)
    assert client.get("/dashboard").status_code == 200  # refreshed just now
    kit.state.add_fault("api", "401_invalid")  # one 401 out of the blue
    assert client.get("/dashboard").status_code == 200
    row = stored(app)
    assert row.status == "active"
    assert "needs_reconnect" not in event_kinds(app)
    works = requests.get(
        f"{kit.url}/v4/account",
        headers={"Authorization": f"Bearer {row.access_token}"},
        timeout=5,
    )
    assert works.status_code == 200


def test_401_twice_is_a_503_that_leaves_the_connection_active(app, client, kit, user):
    connect_with_days(app, kit)
    kit.state.add_fault("api", "401_invalid", times=100)  # every call, retries too
    page = client.get("/dashboard")
    assert page.status_code == 503
    assert page.headers["Retry-After"]
    assert "Kit refused access just now" in page.text
    assert "Reconnect needed" not in page.text
    assert kit.state.stats()["refresh_requests"] == 1  # one refresh attempt only
    row = stored(app)
    assert row.status == "active"
    assert "needs_reconnect" not in event_kinds(app)
    # Kit comes round: the stored pair works, with no further refresh.
    kit.state.clear_faults()
    assert client.get("/dashboard").status_code == 200
    assert kit.state.stats()["refresh_requests"] == 1


def test_an_uninstall_in_kit_marks_the_connection_at_the_refresh(
    app, client, kit, user
):
    """A real revoke: the API's 401 leads to a refresh, whose invalid_grant is
    the proof that marks the connection."""
    connect_with_days(app, kit)
    kit.state.revoke_all_for_account(int(stored(app).kit_account_id))
    page = client.get("/dashboard")
    assert "Reconnect needed" in page.text
    assert stored(app).status == "needs_reconnect"
    assert kit.state.stats()["refresh_requests"] == 1
    assert event_kinds(app) == ["connected", "needs_reconnect"]


def test_a_token_response_without_expires_in_is_not_stored(app, client, kit, user):
    connect_with_days(app, kit)
    expire_stored_token(app)
    before = stored(app)
    kit.config.refreshed_token_lifetime = 0  # the sandbox answers expires_in: 0
    assert client.get("/dashboard").status_code == 503
    assert stored(app).access_token == before.access_token


# --- the audit trail ----------------------------------------------------------------


def test_the_connection_page_shows_the_history_without_secrets(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    expire_stored_token(app)
    client.get("/dashboard")  # refreshed
    install(client, kit_browser)  # installed again: reconnected
    row = stored(app)
    page = client.get(f"/connections/{row.id}")
    assert page.status_code == 200
    for label in ("Connected", "Token refreshed", "Reconnected"):
        assert label in page.text
    assert row.access_token not in page.text
    assert row.refresh_token not in page.text
    assert event_kinds(app) == ["connected", "refreshed", "reconnected"]
