"""The token endpoint's code exchange: credentials, errors, single-use codes."""

from __future__ import annotations

import time

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    BEN,
    REDIRECT_URI,
    StartSandbox,
    assert_oauth_error,
    exchange_fields,
    get_account,
    get_code,
    refresh_fields,
    token_request,
    with_changes,
)


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize("basic", [False, True], ids=["body-creds", "basic-auth"])
def test_code_exchange_accepts_json_or_form_and_body_or_basic_credentials(
    fresh_kit: SandboxServer, browser: requests.Session, encoding: str, basic: bool
) -> None:
    code = get_code(browser, fresh_kit, account_id=str(BEN))
    before = int(time.time())
    response = token_request(
        fresh_kit, exchange_fields(code), encoding=encoding, basic=basic
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "created_at",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 172800
    assert body["scope"] == "public"
    assert before <= body["created_at"] <= int(time.time())
    assert body["access_token"] != body["refresh_token"]
    account = get_account(fresh_kit, body["access_token"]).json()
    assert account["account"]["id"] == BEN

    logged = fresh_kit.state.token_requests[-1]
    assert logged["path"] == "/v4/oauth/token"
    assert logged["grant_type"] == "authorization_code"
    assert logged["basic_auth"] is basic
    assert logged["params"]["code"] == code
    assert logged["content_type"] == (
        "application/json"
        if encoding == "json"
        else "application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize(
    ("fields", "basic"),
    [
        pytest.param({"client_secret": "wrong"}, False, id="wrong-secret-body"),
        pytest.param({"client_secret": "wrong"}, True, id="wrong-secret-basic"),
        pytest.param({"client_secret": None}, False, id="missing-secret"),
        pytest.param({"client_id": "someone-else"}, False, id="unknown-client"),
        pytest.param({"client_id": None}, False, id="missing-client-id"),
    ],
)
def test_code_exchange_rejects_bad_client_credentials(
    fresh_kit: SandboxServer,
    browser: requests.Session,
    fields: dict[str, str | None],
    basic: bool,
) -> None:
    body = with_changes(exchange_fields(get_code(browser, fresh_kit)), fields)
    response = token_request(fresh_kit, body, basic=basic)
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        pytest.param({"grant_type": None}, 400, "invalid_request", id="no-grant-type"),
        pytest.param(
            {"grant_type": "password"}, 400, "unsupported_grant_type", id="password"
        ),
        pytest.param(
            {"grant_type": "client_credentials"},
            400,
            "unsupported_grant_type",
            id="client-credentials",
        ),
        pytest.param({"code": None}, 400, "invalid_request", id="no-code"),
        pytest.param({"redirect_uri": None}, 400, "invalid_request", id="no-redirect"),
        pytest.param({"code": "made-up"}, 400, "invalid_grant", id="unknown-code"),
        pytest.param(
            {"redirect_uri": REDIRECT_URI + "/"},
            400,
            "invalid_grant",
            id="redirect-uri-mismatch",
        ),
    ],
)
def test_code_exchange_errors(
    fresh_kit: SandboxServer,
    browser: requests.Session,
    change: dict[str, str | None],
    status: int,
    error: str,
) -> None:
    body = with_changes(exchange_fields(get_code(browser, fresh_kit)), change)
    assert_oauth_error(token_request(fresh_kit, body), status, error)


def test_a_code_used_twice_fails_and_revokes_what_it_issued(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    code = get_code(browser, fresh_kit)
    first = token_request(fresh_kit, exchange_fields(code))
    assert first.status_code == 200
    refreshed = token_request(fresh_kit, refresh_fields(first.json()["refresh_token"]))
    assert refreshed.status_code == 200

    assert_oauth_error(
        token_request(fresh_kit, exchange_fields(code)), 400, "invalid_grant"
    )
    # Everything descended from the replayed code is dead, refreshed tokens too.
    for tokens in (first.json(), refreshed.json()):
        response = get_account(fresh_kit, tokens["access_token"])
        assert response.status_code == 401
        assert response.json() == {"errors": ["The access token was revoked"]}


def test_an_expired_code_is_refused(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    code = get_code(browser, fresh_kit)
    fresh_kit.state.expire_codes()
    assert_oauth_error(
        token_request(fresh_kit, exchange_fields(code)), 400, "invalid_grant"
    )


def test_code_lifetime_setting_applies(
    start_sandbox: StartSandbox, browser: requests.Session
) -> None:
    kit = start_sandbox(code_lifetime=0)
    code = get_code(browser, kit)
    assert_oauth_error(token_request(kit, exchange_fields(code)), 400, "invalid_grant")


def test_a_failed_exchange_leaves_the_code_usable(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    code = get_code(browser, fresh_kit)
    bad = token_request(fresh_kit, exchange_fields(code, redirect_uri="http://x/"))
    assert bad.status_code == 400
    assert token_request(fresh_kit, exchange_fields(code)).status_code == 200


# -- legacy paths --------------------------------------------------------------


def test_legacy_paths_run_the_whole_flow(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    code = get_code(browser, fresh_kit, path="/oauth/authorize")
    response = token_request(fresh_kit, exchange_fields(code), path="/oauth/token")
    assert response.status_code == 200, response.text
    refreshed = token_request(
        fresh_kit, refresh_fields(response.json()["refresh_token"]), path="/oauth/token"
    )
    assert refreshed.status_code == 200
    assert [entry["path"] for entry in fresh_kit.state.token_requests] == [
        "/oauth/token",
        "/oauth/token",
    ]
