"""Token lifecycle: failures, audit trail, disconnect, key rotation, refresh-due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import Text, select, type_coerce

from app.extensions import db
from app.kit import grants
from app.kit.freshness import is_fresh
from app.kit.tokens import valid_access_token
from app.models import KitConnection, RetiredGrant, WebhookEndpoint
from tests.support import (
    TEST_ENCRYPTION_KEY,
    add_endpoint,
    connect,
    event_kinds,
    expire_stored_token,
    install,
    set_expiry,
    sign_up,
    stored,
)

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
def test_token_endpoint_failure_is_a_503_and_keeps_the_tokens(
    make_app, kit, kit_browser, kind
):
    # "timeout": the sandbox answers 504 after 1.5 s, later than we wait.
    app = make_app(KIT_HTTP_TIMEOUT=0.5, KIT_TOKEN_TIMEOUT=0.5)
    kit.state.timeout_seconds = 1.5
    client = app.test_client()
    sign_up(client)
    install(client, kit_browser)
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


def test_an_outage_adds_one_failure_event_not_one_per_request(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    expire_stored_token(app)
    kit.state.add_fault("token", "500", times=3)
    for _ in range(3):
        assert client.get("/dashboard").status_code == 503
    assert event_kinds(app).count("refresh_failed") == 1


def test_invalid_grant_marks_needs_reconnect_once_and_never_loops(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
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


def test_401_invalid_then_a_working_refresh_recovers(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    kit.state.add_fault("api", "401_invalid")
    assert client.get("/dashboard").status_code == 200
    assert kit.state.stats()["refresh_requests"] == 1
    assert stored(app).status == "active"


def test_a_401_right_after_a_refresh_does_not_mark_the_connection(
    make_app, kit, kit_browser
):
    app = make_app(KIT_CACHE_SECONDS=0)  # every page asks Kit
    client = app.test_client()
    sign_up(client)
    install(client, kit_browser)
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


def test_401_twice_is_a_503_that_leaves_the_connection_active(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
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
    app, client, kit, kit_browser, user
):
    """A real revoke: the API's 401 leads to a refresh, whose invalid_grant is
    the proof that marks the connection."""
    install(client, kit_browser)
    kit.state.revoke_all_for_account(int(stored(app).kit_account_id))
    page = client.get("/dashboard")
    assert "Reconnect needed" in page.text
    assert stored(app).status == "needs_reconnect"
    assert kit.state.stats()["refresh_requests"] == 1
    assert event_kinds(app) == ["connected", "needs_reconnect"]


def test_a_token_response_without_expires_in_is_not_stored(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
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


# --- disconnect ------------------------------------------------------------------


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
    sign_up(client, csrf=True)  # and connect, with CSRF on
    install(client, kit_browser)
    assert client.post("/connections/1/disconnect").status_code == 400
    assert stored(app).status == "active"


# --- key rotation ------------------------------------------------------------------


def test_rotate_keys_re_encrypts_everything_under_the_new_key(
    make_app, kit, kit_browser
):
    old_app = make_app()
    client = old_app.test_client()
    sign_up(client)
    install(client, kit_browser)
    tokens = stored(old_app)

    new_key = Fernet.generate_key().decode()
    both = make_app(TOKEN_ENCRYPTION_KEYS=f"{new_key},{TEST_ENCRYPTION_KEY}")
    result = both.test_cli_runner().invoke(args=["kit", "rotate-keys"])
    assert result.exit_code == 0, result.output
    # Two tokens, one PKCE verifier, and the webhook signing secret of the install.
    assert "rotated 4" in result.output

    with both.app_context():
        raw = db.session.execute(
            select(
                type_coerce(KitConnection.access_token, Text),
                type_coerce(KitConnection.refresh_token, Text),
            )
        ).one()
    for ciphertext, plain in zip(
        raw, (tokens.access_token, tokens.refresh_token), strict=True
    ):
        assert Fernet(new_key).decrypt(ciphertext.encode()).decode() == plain

    # The old key can go now: an app with only the new key reads everything.
    new_only = make_app(TOKEN_ENCRYPTION_KEYS=new_key)
    with new_only.app_context():
        assert (
            valid_access_token(1, new_only.extensions["kit_settings"])
            == tokens.access_token
        )


def test_rotate_keys_covers_every_encrypted_column(make_app, kit, kit_browser):
    """Retired pairs and webhook signing secrets too: every EncryptedText
    column of the models, with no list to forget."""
    old_app = make_app()
    client = old_app.test_client()
    sign_up(client)
    install(client, kit_browser)
    with old_app.app_context():
        db.session.query(WebhookEndpoint).delete()
        grants.retire(db.session, "old-access", "old-refresh", RetiredGrant.REPLACED, 1)
        db.session.commit()
    add_endpoint(old_app, secret="whsec-current", previous_secret="whsec-previous")

    new_key = Fernet.generate_key().decode()
    both = make_app(TOKEN_ENCRYPTION_KEYS=f"{new_key},{TEST_ENCRYPTION_KEY}")
    result = both.test_cli_runner().invoke(args=["kit", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "rotated 7" in result.output  # 2 tokens, 1 verifier, 2 retired, 2 secrets

    new_only = make_app(TOKEN_ENCRYPTION_KEYS=new_key)
    with new_only.app_context():
        retired = db.session.scalars(select(RetiredGrant)).one()
        assert (retired.access_token, retired.refresh_token) == (
            "old-access",
            "old-refresh",
        )
        endpoint = db.session.scalars(select(WebhookEndpoint)).one()
        assert (endpoint.secret, endpoint.previous_secret) == (
            "whsec-current",
            "whsec-previous",
        )


# --- proactive refresh ------------------------------------------------------


def test_refresh_due_refreshes_exactly_the_due_connections(app, runner, kit, user):
    accounts = sorted(kit.state.accounts)
    for account in accounts:
        connect(app, kit, account=account)
    connect(app, kit, account=accounts[0], tenant_name="Shop")
    set_expiry(app, 1, minutes=10)  # due
    set_expiry(app, 2, minutes=120)  # not due
    set_expiry(app, 3, minutes=5, status="needs_reconnect")  # due, but no grant
    set_expiry(app, 4, minutes=-5)  # already expired: due
    before = {i: stored(app, i).refresh_token for i in (1, 2, 3, 4)}

    result = runner.invoke(
        args=["kit", "refresh-due", "--within", "30m", "--batch-size", "1"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "due 2: refreshed 2, already fresh 0, needs reconnect 0, failed 0"
        in result.output
    )
    after = {i: stored(app, i).refresh_token for i in (1, 2, 3, 4)}
    assert [i for i in before if before[i] != after[i]] == [1, 4]
    assert kit.state.stats()["refresh_requests"] == 2

    again = runner.invoke(args=["kit", "refresh-due", "--within", "30m"])
    assert "due 0:" in again.output


def test_refresh_due_exits_non_zero_when_kit_fails_but_not_for_invalid_grant(
    app, runner, kit, user
):
    accounts = sorted(kit.state.accounts)
    connect(app, kit, account=accounts[0])
    connect(app, kit, account=accounts[1])
    set_expiry(app, 1, minutes=1)
    set_expiry(app, 2, minutes=1)

    kit.state.add_fault("token", "invalid_grant")
    dead_grant = runner.invoke(args=["kit", "refresh-due", "--within", "30m"])
    assert dead_grant.exit_code == 0
    assert (
        "refreshed 1, already fresh 0, needs reconnect 1, failed 0" in dead_grant.output
    )

    set_expiry(app, 2, minutes=1)
    kit.state.add_fault("token", "500")
    outage = runner.invoke(args=["kit", "refresh-due", "--within", "30m"])
    assert outage.exit_code == 1
    assert "failed 1" in outage.output


@pytest.mark.parametrize("bad", ["soon", "", "5x"])
def test_refresh_due_rejects_a_bad_duration(runner, bad):
    result = runner.invoke(args=["kit", "refresh-due", "--within", bad])
    assert result.exit_code == 2
    assert "use a number with s, m, h or d" in result.output


def test_refresh_due_window_is_not_capped_at_half_the_lifetime(app, runner, kit, user):
    """The request path never refreshes a token with more than half its life
    left; an operator asking refresh-due for a wider window gets that window."""
    connect(app, kit)  # a 48 h token, just issued
    result = runner.invoke(args=["kit", "refresh-due", "--within", "3d"])
    assert "due 1: refreshed 1" in result.output
    assert kit.state.stats()["refresh_requests"] == 1
