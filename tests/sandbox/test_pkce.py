"""PKCE (S256): required of a public client, checked for a confidential one."""

from __future__ import annotations

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    SECRET,
    StartSandbox,
    assert_oauth_error,
    exchange_fields,
    get_account,
    get_code,
    location_query,
    open_consent,
    pkce_pair,
    refresh_fields,
    token_request,
)


def test_public_client_must_send_a_code_challenge(
    public_kit: SandboxServer, browser: requests.Session
) -> None:
    query = location_query(open_consent(browser, public_kit))
    assert query["error"] == "invalid_request"
    assert "PKCE" in query["error_description"]


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_public_client_exchanges_with_a_verifier_and_no_secret(
    public_kit: SandboxServer, browser: requests.Session, encoding: str
) -> None:
    verifier, challenge = pkce_pair()
    code = get_code(
        browser, public_kit, code_challenge=challenge, code_challenge_method="S256"
    )
    body = exchange_fields(code, code_verifier=verifier)
    del body["client_secret"]
    response = token_request(public_kit, body, encoding=encoding)
    assert response.status_code == 200, response.text
    assert get_account(public_kit, response.json()["access_token"]).status_code == 200
    refreshed = token_request(
        public_kit, refresh_fields(response.json()["refresh_token"])
    )
    assert refreshed.status_code == 200


@pytest.mark.parametrize(
    "verifier",
    [
        pytest.param(None, id="missing"),
        pytest.param("x" * 64, id="wrong"),
        pytest.param("challenge", id="the-challenge-itself"),
    ],
)
@pytest.mark.parametrize("public", [True, False], ids=["public", "confidential"])
def test_pkce_verifier_must_match_the_challenge(
    start_sandbox: StartSandbox,
    browser: requests.Session,
    verifier: str | None,
    public: bool,
) -> None:
    kit = start_sandbox(client_secret=None if public else SECRET)
    _, challenge = pkce_pair()
    code = get_code(
        browser, kit, code_challenge=challenge, code_challenge_method="S256"
    )
    body = exchange_fields(code)
    if public:
        del body["client_secret"]
    if verifier is not None:
        body["code_verifier"] = challenge if verifier == "challenge" else verifier
    assert_oauth_error(token_request(kit, body), 400, "invalid_grant")


def test_confidential_client_may_use_pkce_too(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    verifier, challenge = pkce_pair()
    code = get_code(
        browser, fresh_kit, code_challenge=challenge, code_challenge_method="S256"
    )
    response = token_request(fresh_kit, exchange_fields(code, code_verifier=verifier))
    assert response.status_code == 200


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize("verifier", ["x" * 64, ""], ids=["verifier", "empty"])
def test_a_verifier_for_a_code_issued_without_a_challenge_is_refused(
    fresh_kit: SandboxServer, browser: requests.Session, encoding: str, verifier: str
) -> None:
    """RFC 9700 4.8.2, PKCE downgrade: the challenge was stripped from the
    authorize request, so the token request's verifier has nothing to match."""
    code = get_code(browser, fresh_kit)  # no code_challenge
    downgraded = token_request(
        fresh_kit, exchange_fields(code, code_verifier=verifier), encoding=encoding
    )
    assert_oauth_error(downgraded, 400, "invalid_grant")
    assert "code_challenge" in downgraded.json()["error_description"]
    assert fresh_kit.state.token_sets == []


def test_a_code_issued_without_a_challenge_still_exchanges_without_a_verifier(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    """A confidential client that does not use PKCE at all is fine."""
    code = get_code(browser, fresh_kit)
    response = token_request(fresh_kit, exchange_fields(code))
    assert response.status_code == 200, response.text
