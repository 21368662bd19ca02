"""Kit's way back, /kit/oauth/callback: the token exchange, what it refuses, and
the token response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app.kit.oauth import token_set_from_response
from tests.support.accounts import PASSWORD, sign_up
from tests.support.installing import age_attempts, install, start_install
from tests.support.rows import connections

# --- the token exchange ---------------------------------------------------------------


def test_token_exchange_request_follows_kit_platform(client, kit, kit_browser, user):
    install(client, kit_browser)
    [exchange] = [
        r for r in kit.state.token_requests if r["grant_type"] == "authorization_code"
    ]
    params = exchange["params"]
    assert exchange["path"] == "/v4/oauth/token"
    assert params["client_id"] == kit.config.client_id
    assert params["client_secret"] == kit.config.client_secret
    assert params["redirect_uri"] == "http://localhost/kit/oauth/callback"
    assert 43 <= len(params["code_verifier"]) <= 128
    assert params["code"]


def test_public_client_sends_no_secret_and_relies_on_pkce(make_app, kit, kit_browser):
    kit.config.client_secret = None
    public_app = make_app()
    public = public_app.test_client()
    sign_up(public)
    assert install(public, kit_browser).status_code == 302
    [exchange] = [
        r for r in kit.state.token_requests if r["grant_type"] == "authorization_code"
    ]
    assert "client_secret" not in exchange["params"]
    assert exchange["params"]["code_verifier"]
    assert len(connections(public_app)) == 1


# --- the callback refuses what it must ------------------------------------------------


def _callback_from_kit(client, kit_browser, **params):  # type: ignore[no-untyped-def]
    """Where Kit would send us back, as a dict of query parameters."""
    to_kit = start_install(client, **params)
    back = kit_browser.consent(to_kit.location)
    return {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no state", "incomplete"),
        ("wrong state", "not started here"),
        ("replayed state", "already completed"),
        ("expired attempt", "expired"),
        ("missing code", "without an authorization code"),
        ("access denied", "did not allow access"),
        ("other error", "could not connect"),
        ("code already used", "did not accept"),
        ("signed out", "session ended"),
        ("other browser", "another browser"),
    ],
)
def test_callback_failures_store_nothing(
    app, client, kit, kit_browser, user, case, expected
):
    params = _callback_from_kit(client, kit_browser)
    if case == "no state":
        params.pop("state")
    elif case == "wrong state":
        params["state"] = "x" * 43
    elif case == "replayed state":
        assert client.get("/kit/oauth/callback", query_string=params).status_code == 302
        # Once the connection is gone, the replay is no "already connected".
        assert client.post("/connections/1/disconnect").status_code == 302
        db_before = [(c.id, c.access_token) for c in connections(app)]
    elif case == "expired attempt":
        age_attempts(app, timedelta(hours=1))
    elif case == "missing code":
        params.pop("code")
    elif case == "access denied":
        params = {"error": "access_denied", "state": params["state"]}
    elif case == "other error":
        params = {"error": "server_error", "state": params["state"]}
    elif case == "code already used":
        # A code Kit already exchanged, arriving with a new attempt's state.
        to_kit = start_install(client)
        replay = dict(
            params, state=parse_qs(urlsplit(to_kit.location).query)["state"][0]
        )
        assert client.get("/kit/oauth/callback", query_string=params).status_code == 302
        db_before = [(c.id, c.access_token) for c in connections(app)]
        params = replay
    elif case == "signed out":
        client.post("/logout")
    elif case == "other browser":
        # Same user, another browser: its session never held this state.
        client = app.test_client()
        client.post("/login", data={"email": user, "password": PASSWORD})

    response = client.get("/kit/oauth/callback", query_string=params)
    assert response.status_code == 400
    assert expected in response.text
    assert "Traceback" not in response.text
    if case in ("replayed state", "code already used"):
        assert [(c.id, c.access_token) for c in connections(app)] == db_before
    else:
        assert connections(app) == []


def test_kit_down_at_exchange_stores_nothing_and_says_so(
    app, client, kit, kit_browser, user
):
    params = _callback_from_kit(client, kit_browser)
    kit.state.add_fault("token", "500")
    response = client.get("/kit/oauth/callback", query_string=params)
    assert response.status_code == 503
    assert "Kit is unavailable" in response.text
    assert connections(app) == []


# --- the token response ---------------------------------------------------------------


def test_expiry_is_the_earlier_of_kit_created_at_and_our_clock():
    now = datetime.now(UTC).timestamp()
    body = {"access_token": "a", "refresh_token": "r", "expires_in": 7200}
    late_kit_clock = token_set_from_response({**body, "created_at": now + 600}, now)
    early_kit_clock = token_set_from_response({**body, "created_at": now - 600}, now)
    assert late_kit_clock.expires_at.timestamp() == pytest.approx(now + 7200)
    assert early_kit_clock.expires_at.timestamp() == pytest.approx(now + 6600)


@pytest.mark.parametrize(
    "body",
    [
        {"refresh_token": "r", "expires_in": 7200},
        {"access_token": "a", "expires_in": 7200},
        {"access_token": "a", "refresh_token": "r"},
        {"access_token": "a", "refresh_token": "r", "expires_in": "soon"},
        {"access_token": "a", "refresh_token": "r", "expires_in": 0},
    ],
)
def test_incomplete_token_response_is_a_failure(body):
    from app.kit.errors import KitUnavailable

    with pytest.raises(KitUnavailable):
        token_set_from_response(body, datetime.now(UTC).timestamp())
