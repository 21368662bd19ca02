"""The consent screen at /v4/oauth/authorize: what it checks, shows and sends back."""

from __future__ import annotations

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    BANNER,
    REDIRECT_URI,
    form_fields,
    location_query,
    open_consent,
    submit_consent,
)


@pytest.mark.parametrize("path", ["/v4/oauth/authorize", "/oauth/authorize"])
def test_consent_page_shows_app_permission_tenant_and_accounts(
    fresh_kit: SandboxServer, browser: requests.Session, path: str
) -> None:
    response = open_consent(browser, fresh_kit, path=path, tenant_name="My Blog")
    assert response.status_code == 200
    page = response.text
    assert "Kit App Starter" in page
    assert "Access your Kit account" in page
    assert "My Blog" in page
    assert "Sign in as…" in page
    assert "Ada&#39;s Kitchen" in page
    assert "Byte-Sized Notes" in page
    assert page.count('type="radio"') == len(fresh_kit.state.accounts)
    assert 'value="allow"' in page
    assert 'value="deny"' in page
    assert form_fields(page)["tenant_name"] == "My Blog"
    assert form_fields(page)["csrf_token"]
    assert "kit_sandbox_session" in browser.cookies
    assert "session" not in browser.cookies
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"client_id": None}, id="missing-client-id"),
        pytest.param({"client_id": "someone-else"}, id="unknown-client-id"),
        pytest.param({"redirect_uri": None}, id="missing-redirect-uri"),
        pytest.param(
            {"redirect_uri": REDIRECT_URI + "/"}, id="redirect-uri-trailing-slash"
        ),
        pytest.param(
            {"redirect_uri": "http://127.0.0.1:5001/kit/oauth/callback"},
            id="redirect-uri-other-port",
        ),
        pytest.param(
            {"redirect_uri": "https://evil.example/kit/oauth/callback"},
            id="redirect-uri-other-host",
        ),
        pytest.param(
            {"redirect_uri": "http://127.0.0.1:5000/kit/oauth/callback?x=1"},
            id="redirect-uri-extra-query",
        ),
    ],
)
def test_untrusted_client_or_redirect_uri_gets_an_error_page_not_a_redirect(
    fresh_kit: SandboxServer, browser: requests.Session, params: dict[str, str | None]
) -> None:
    response = open_consent(browser, fresh_kit, response_type="token", **params)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "What you can do" in response.text
    assert BANNER in response.text


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "admin"}, "invalid_scope"),
        (
            {"code_challenge": "abc", "code_challenge_method": "plain"},
            "invalid_request",
        ),
        ({"code_challenge": "abc"}, "invalid_request"),
    ],
)
def test_bad_authorize_parameters_are_reported_to_the_redirect_uri(
    fresh_kit: SandboxServer,
    browser: requests.Session,
    params: dict[str, str | None],
    error: str,
) -> None:
    response = open_consent(browser, fresh_kit, **params)
    query = location_query(response)
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    assert query["error"] == error
    assert query["state"] == "state-123"


def test_allow_redirects_with_a_code_and_the_state(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, fresh_kit)
    response = submit_consent(browser, fresh_kit, page)
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    query = location_query(response)
    assert set(query) == {"code", "state"}
    assert query["state"] == "state-123"
    assert query["code"] in fresh_kit.state.codes


def test_allow_without_state_sends_no_state(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, fresh_kit, state=None)
    assert set(location_query(submit_consent(browser, fresh_kit, page))) == {"code"}


@pytest.mark.parametrize("state", ["state-123", None])
def test_deny_redirects_with_access_denied(
    fresh_kit: SandboxServer, browser: requests.Session, state: str | None
) -> None:
    page = open_consent(browser, fresh_kit, state=state)
    query = location_query(submit_consent(browser, fresh_kit, page, decision="deny"))
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query.get("state") == state
    assert "code" not in query
    assert fresh_kit.state.codes == {}


def test_consent_page_escapes_what_the_app_sent(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, fresh_kit, tenant_name='<b>"x"</b>').text
    assert "<b>" not in page
    assert "&lt;b&gt;" in page
    assert form_fields(page)["tenant_name"] == '<b>"x"</b>'


@pytest.mark.parametrize(
    "csrf_token", ["", "forged"], ids=["missing-csrf", "wrong-csrf"]
)
def test_consent_post_needs_the_sessions_csrf_token(
    fresh_kit: SandboxServer, browser: requests.Session, csrf_token: str
) -> None:
    page = open_consent(browser, fresh_kit)
    response = submit_consent(browser, fresh_kit, page, csrf_token=csrf_token)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert fresh_kit.state.codes == {}


def test_consent_post_from_another_browser_is_refused(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, fresh_kit)
    with requests.Session() as other_browser:
        response = submit_consent(other_browser, fresh_kit, page)
    assert response.status_code == 400
    assert fresh_kit.state.codes == {}


def test_consent_post_revalidates_the_redirect_uri(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, fresh_kit)
    response = submit_consent(
        browser, fresh_kit, page, redirect_uri="https://evil.example/callback"
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_consent_post_with_an_unknown_account_shows_the_form_again(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, fresh_kit)
    response = submit_consent(browser, fresh_kit, page, account_id=999)
    assert response.status_code == 400
    assert "Choose the account" in response.text
    assert fresh_kit.state.codes == {}
