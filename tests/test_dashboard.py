"""The first dashboard: Kit account facts, with a token refreshed when it expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from markupsafe import escape

from tests.support.installing import first_account, install
from tests.support.rows import expire_stored_token, stored


def test_dashboard_shows_the_kit_account(client, kit, kit_browser, user):
    install(client, kit_browser)
    page = client.get("/dashboard")
    assert page.status_code == 200
    account = first_account(kit)
    for fact in (
        account.name,
        account.email,
        account.timezone.friendly_name,
        "Creator Pro",
    ):
        assert str(escape(fact)) in page.text


def test_dashboard_without_connections_offers_connect(client, user):
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "No Kit account connected yet" in page.text
    assert 'href="/kit/oauth"' in page.text


def test_dashboard_needs_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/login" in response.location


def test_expired_token_is_refreshed_and_the_rotated_pair_persisted(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    before = stored(app)
    expire_stored_token(app)
    kit.state.expire_access_tokens()

    page = client.get("/dashboard")
    assert page.status_code == 200
    assert str(escape(before.account_name)) in page.text
    after = stored(app)
    assert after.refresh_token != before.refresh_token
    assert after.access_token != before.access_token
    assert after.expires_at > datetime.now(UTC) + timedelta(hours=1)
    assert after.last_refreshed_at is not None
    assert kit.state.stats()["refresh_requests"] == 1

    # Kit rotated: the old refresh token is dead at Kit now.
    reuse = requests.post(
        f"{kit.url}/v4/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": before.refresh_token,
            "client_id": kit.config.client_id,
            "client_secret": kit.config.client_secret,
        },
        timeout=5,
    )
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"


def test_fresh_token_makes_no_token_call(client, kit, kit_browser, user):
    install(client, kit_browser)
    calls = len(kit.state.token_requests)
    for _ in range(3):
        assert client.get("/dashboard").status_code == 200
    assert len(kit.state.token_requests) == calls


def test_token_expired_at_kit_before_our_clock_says_so_is_refreshed_once(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    kit.state.expire_access_tokens()  # Kit says "The access token expired"
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert kit.state.stats()["refresh_requests"] == 1


def test_revoked_install_asks_to_reconnect_and_keeps_the_row(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    account = first_account(kit)
    kit.state.revoke_all_for_account(account.id)
    expire_stored_token(app)

    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Reconnect needed" in page.text
    row = stored(app)
    assert row.status == "needs_reconnect"
    refreshes = kit.state.stats()["refresh_requests"]
    # Never loops: the next page view does not try the dead refresh token again.
    client.get("/dashboard")
    assert kit.state.stats()["refresh_requests"] == refreshes

    # Reconnect runs the flow again and restores the same row.
    install(client, kit_browser)
    again = stored(app)
    assert again.id == row.id
    assert again.status == "active"
    assert "Reconnect needed" not in client.get("/dashboard").text


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
