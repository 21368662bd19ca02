"""Controlling the sandbox: the /_sandbox control API, and in process."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxConfig, SandboxServer, SandboxState, create_sandbox_app
from tests.sandbox.support import (
    BEN,
    connect,
    get_account,
    refresh_fields,
    token_request,
)

# -- control API ---------------------------------------------------------------


def control(kit: SandboxServer, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(
        method, kit.url + "/_sandbox" + path, timeout=5, **kwargs
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_control_api_stats_counts_requests(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    token_request(fresh_kit, refresh_fields(tokens["refresh_token"]))
    get_account(fresh_kit, tokens["access_token"])
    assert control(fresh_kit, "GET", "/stats") == {
        "token_requests": 2,
        "refresh_requests": 1,
        "revoke_requests": 0,
        "api_requests": 1,
        "install_completions": 0,
    }
    logs = control(fresh_kit, "GET", "/requests")
    assert [entry["grant_type"] for entry in logs["token_requests"]] == [
        "authorization_code",
        "refresh_token",
    ]


def test_control_api_plans_and_clears_faults(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    planned = control(
        fresh_kit,
        "POST",
        "/faults",
        json={"endpoint": "api", "kind": "429", "times": 3},
    )
    assert planned == {"faults": [{"endpoint": "api", "kind": "429", "remaining": 3}]}
    assert get_account(fresh_kit, tokens["access_token"]).status_code == 429
    assert control(fresh_kit, "DELETE", "/faults") == {"faults": []}
    assert get_account(fresh_kit, tokens["access_token"]).status_code == 200


def test_control_api_changes_settings(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    settings = control(
        fresh_kit,
        "POST",
        "/settings",
        json={"access_token_lifetime": 60, "refreshed_token_lifetime": 30},
    )
    assert settings["access_token_lifetime"] == 60
    tokens = connect(browser, fresh_kit)
    assert tokens["expires_in"] == 60
    refreshed = token_request(fresh_kit, refresh_fields(tokens["refresh_token"])).json()
    assert refreshed["expires_in"] == 30
    control(fresh_kit, "POST", "/settings", json={"timeout_seconds": 0.25})
    assert fresh_kit.state.timeout_seconds == 0.25


@pytest.mark.parametrize(
    "body",
    [
        {"latency": 10},
        {"latency_ms": -1},
        {"latency_ms": "10"},
        {"code_lifetime": 1.5},
        {"access_token_lifetime": True},
    ],
)
def test_control_api_refuses_bad_settings(fresh_kit: SandboxServer, body: dict) -> None:
    response = requests.post(fresh_kit.url + "/_sandbox/settings", json=body, timeout=5)
    assert response.status_code == 400
    assert "error" in response.json()
    assert fresh_kit.config.latency_ms == 0
    assert fresh_kit.config.code_lifetime == 600


def test_control_api_expires_revokes_and_resets(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    control(fresh_kit, "POST", "/expire-tokens")
    expired = get_account(fresh_kit, tokens["access_token"])
    assert expired.json() == {"errors": ["The access token expired"]}

    fresh = connect(browser, fresh_kit, account_id=str(BEN))
    assert control(fresh_kit, "POST", "/revoke-account", json={"account_id": BEN}) == {
        "revoked": 1
    }
    revoked = get_account(fresh_kit, fresh["access_token"])
    assert revoked.json() == {"errors": ["The access token was revoked"]}

    fresh_kit.state.add_fault("token", "500")
    control(fresh_kit, "POST", "/reset")
    assert fresh_kit.state.faults == []
    assert fresh_kit.state.token_sets == []
    assert control(fresh_kit, "GET", "/stats")["token_requests"] == 0
    assert len(fresh_kit.state.accounts) >= 2


def test_control_api_answers_only_loopback_clients() -> None:
    client = create_sandbox_app().test_client()
    remote = client.get("/_sandbox/stats", environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert remote.status_code == 403
    local = client.get("/_sandbox/stats", environ_base={"REMOTE_ADDR": "::1"})
    assert local.status_code == 200


# -- in-process API ------------------------------------------------------------


def test_create_sandbox_app_shares_a_given_state() -> None:
    state = SandboxState(SandboxConfig(app_name="Shared"))
    app = create_sandbox_app(state=state)
    client = app.test_client()
    assert b"Shared" in client.get("/apps/4242").data
    with pytest.raises(ValueError):
        create_sandbox_app(SandboxConfig(), state)


def test_server_url_is_known_only_once_started() -> None:
    server = SandboxServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        assert requests.get(server.url + "/_sandbox/stats", timeout=5).ok
    with pytest.raises(RuntimeError):
        _ = server.url
