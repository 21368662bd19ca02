"""Disconnect: revoked at Kit, the tokens forgotten, a reinstall works; with
Kit down nothing changes; the CSRF token is needed. (Kit failing mid-way:
test_disconnect_fails.py.)"""

from __future__ import annotations

from tests.support.accounts import signed_in
from tests.support.installing import install
from tests.support.rows import event_kinds, stored


def test_disconnect_revokes_at_kit_forgets_tokens_and_reinstall_works(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    before = stored(app)
    done = client.post("/connections/1/disconnect")
    assert done.status_code == 302
    assert "Disconnected" in client.get("/dashboard").text

    [refresh_revoke, *rest] = kit.state.revoke_requests
    assert refresh_revoke["content_type"].startswith(
        "application/x-www-form-urlencoded"
    )
    assert refresh_revoke["params"]["token"] == before.refresh_token
    assert refresh_revoke["params"]["token_type_hint"] == "refresh_token"
    assert refresh_revoke["params"]["client_id"] == kit.config.client_id
    assert refresh_revoke["revoked"] is True
    assert kit.state.find_refresh_token(before.refresh_token).revoked

    row = stored(app)
    assert (row.status, row.access_token, row.refresh_token) == ("revoked", None, None)

    install(client, kit_browser)
    again = stored(app)
    assert again.id == row.id
    assert again.status == "active"
    assert "Ada" in client.get("/dashboard").text
    assert event_kinds(app) == ["connected", "disconnected", "reconnected"]


def test_disconnect_when_kit_is_down_changes_nothing(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    before = stored(app)
    kit.state.add_fault("revoke", "500")
    response = client.post("/connections/1/disconnect")
    assert response.status_code == 503
    assert "nothing was changed" in response.text
    after = stored(app)
    assert (after.status, after.refresh_token) == ("active", before.refresh_token)


def test_disconnect_needs_the_csrf_token(make_app, kit, kit_browser):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    signed_in(client, csrf=True)  # and connect, with CSRF on
    install(client, kit_browser)
    assert client.post("/connections/1/disconnect").status_code == 400
    assert stored(app).status == "active"
