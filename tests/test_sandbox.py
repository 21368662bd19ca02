"""The Kit sandbox, driven over real HTTP the way our app and a browser use it."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from kit_sandbox import SandboxConfig, SandboxServer, SandboxState, create_sandbox_app

REDIRECT_URI = "http://127.0.0.1:5000/kit/oauth/callback"
CLIENT_ID = "kit-starter-sandbox"
SECRET = "sandbox-secret"
ADA, BEN = 1001, 1002
BANNER = "Kit sandbox — a local stand-in for Kit, no real accounts"

StartSandbox = Callable[..., SandboxServer]


# -- fixtures and helpers ---------------------------------------------------


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start sandboxes with config overrides; all are stopped after the test."""
    servers: list[SandboxServer] = []

    def start(**overrides: Any) -> SandboxServer:
        server = SandboxServer(SandboxConfig(**overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def kit(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox with the default, confidential (secret-holding) client."""
    return start_sandbox()


@pytest.fixture
def public_kit(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox whose app is a public client: PKCE, no secret."""
    return start_sandbox(client_secret=None)


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    """A creator's browser: keeps the sandbox's session cookie."""
    with requests.Session() as session:
        yield session


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def location_query(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the consent form, as a browser would send them."""
    pattern = r'<input type="hidden" name="([^"]+)" value="([^"]*)">'
    return {name: html.unescape(value) for name, value in re.findall(pattern, page)}


def open_consent(
    browser: requests.Session,
    kit: SandboxServer,
    path: str = "/v4/oauth/authorize",
    **params: str | None,
) -> requests.Response:
    """GET the consent page; ``None`` in ``params`` drops a default parameter."""
    query: dict[str, str | None] = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "state": "state-123",
    }
    query.update(params)
    sent = {key: value for key, value in query.items() if value is not None}
    return browser.get(kit.url + path, params=sent, allow_redirects=False)


def submit_consent(
    browser: requests.Session,
    kit: SandboxServer,
    page: requests.Response,
    decision: str = "allow",
    account_id: int = ADA,
    **overrides: str,
) -> requests.Response:
    assert page.status_code == 200, page.text
    fields = form_fields(page.text) | {"decision": decision}
    fields["account_id"] = str(account_id)
    fields.update(overrides)
    path = urlsplit(page.url).path
    return browser.post(kit.url + path, data=fields, allow_redirects=False)


def get_code(browser: requests.Session, kit: SandboxServer, **params: str) -> str:
    """Run the consent screen and return the code from the redirect."""
    account_id = int(params.pop("account_id", ADA))
    page = open_consent(browser, kit, **params)
    query = location_query(submit_consent(browser, kit, page, account_id=account_id))
    assert query.get("state") == params.get("state", "state-123")
    return query["code"]


def token_request(
    kit: SandboxServer,
    fields: dict[str, str],
    *,
    encoding: str = "form",
    basic: bool = False,
    path: str = "/v4/oauth/token",
    timeout: float = 5,
) -> requests.Response:
    """POST to the token endpoint; ``basic`` moves client credentials to Basic."""
    body = dict(fields)
    auth = None
    if basic:
        auth = (body.pop("client_id"), body.pop("client_secret", ""))
    if encoding == "json":
        return requests.post(kit.url + path, json=body, auth=auth, timeout=timeout)
    return requests.post(kit.url + path, data=body, auth=auth, timeout=timeout)


def exchange_fields(code: str, **extra: str) -> dict[str, str]:
    fields = {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    fields.update(extra)
    return fields


def refresh_fields(refresh_token: str, **extra: str) -> dict[str, str]:
    fields = {
        "client_id": CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    fields.update(extra)
    return fields


def connect(
    browser: requests.Session, kit: SandboxServer, **params: str
) -> dict[str, Any]:
    """The whole code flow for a confidential client: consent, then exchange."""
    response = token_request(kit, exchange_fields(get_code(browser, kit, **params)))
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def get_account(
    kit: SandboxServer, access_token: str | None, timeout: float = 5
) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return requests.get(kit.url + "/v4/account", headers=headers, timeout=timeout)


def revoke(
    kit: SandboxServer, token: str, path: str = "/v4/oauth/revoke", **extra: str
) -> requests.Response:
    fields = {"token": token, "client_id": CLIENT_ID, "client_secret": SECRET}
    fields.update(extra)
    return requests.post(kit.url + path, data=fields, timeout=5)


def assert_oauth_error(response: requests.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]


# -- web origin: App Store, install --------------------------------------------


def test_root_redirects_to_the_app_store_page(kit: SandboxServer) -> None:
    response = requests.get(kit.url + "/", allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/apps/4242")


def test_app_store_page_shows_the_app_and_an_install_button(
    kit: SandboxServer,
) -> None:
    response = requests.get(kit.url + "/apps/4242", timeout=5)
    assert response.status_code == 200
    assert "Kit App Starter" in response.text
    assert BANNER in response.text
    assert 'href="/apps/4242/install"' in response.text
    assert ">Install<" in response.text
    assert "<script" not in response.text
    stylesheet = requests.get(
        kit.url + "/_sandbox/static/sandbox.css", timeout=5
    )
    assert stylesheet.status_code == 200
    assert "#fb6970" in stylesheet.text.lower()


def test_unknown_app_is_a_friendly_404_page(kit: SandboxServer) -> None:
    response = requests.get(kit.url + "/apps/1", timeout=5)
    assert response.status_code == 404
    assert "App not found" in response.text
    assert BANNER in response.text


@pytest.mark.parametrize(
    ("authorization_url", "expected_prefix"),
    [
        ("http://127.0.0.1:5000/kit/oauth", "http://127.0.0.1:5000/kit/oauth?"),
        (
            "http://localhost:8000/install?source=kit",
            "http://localhost:8000/install?source=kit&",
        ),
    ],
)
def test_install_sends_the_browser_to_the_authorization_url_with_redirect(
    start_sandbox: StartSandbox, authorization_url: str, expected_prefix: str
) -> None:
    kit = start_sandbox(authorization_url=authorization_url)
    response = requests.get(
        kit.url + "/apps/4242/install?k_app_id=k_4242",
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(expected_prefix)
    assert location_query(response)["redirect"] == (f"{kit.url}/apps/4242?success=true")


def test_success_page_says_installed_and_links_to_the_dashboard(
    start_sandbox: StartSandbox,
) -> None:
    kit = start_sandbox(authorization_url="http://127.0.0.1:5000/kit/oauth?x=1")
    response = requests.get(kit.url + "/apps/4242?success=true", timeout=5)
    assert response.status_code == 200
    assert "Kit App Starter is installed" in response.text
    assert 'href="http://127.0.0.1:5000/dashboard"' in response.text
    assert "Open Kit App Starter" in response.text
    assert kit.state.stats()["install_completions"] == 1


# -- the consent screen ------------------------------------------------------


@pytest.mark.parametrize("path", ["/v4/oauth/authorize", "/oauth/authorize"])
def test_consent_page_shows_app_permission_tenant_and_accounts(
    kit: SandboxServer, browser: requests.Session, path: str
) -> None:
    response = open_consent(browser, kit, path=path, tenant_name="My Blog")
    assert response.status_code == 200
    page = response.text
    assert "Kit App Starter" in page
    assert "Access your Kit account" in page
    assert "My Blog" in page
    assert "Sign in as…" in page
    assert "Ada&#39;s Kitchen" in page
    assert "Byte-Sized Notes" in page
    assert page.count('type="radio"') == len(kit.state.accounts)
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
    kit: SandboxServer, browser: requests.Session, params: dict[str, str | None]
) -> None:
    response = open_consent(browser, kit, response_type="token", **params)
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
    kit: SandboxServer,
    browser: requests.Session,
    params: dict[str, str | None],
    error: str,
) -> None:
    response = open_consent(browser, kit, **params)
    query = location_query(response)
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    assert query["error"] == error
    assert query["state"] == "state-123"


def test_allow_redirects_with_a_code_and_the_state(
    kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, kit)
    response = submit_consent(browser, kit, page)
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    query = location_query(response)
    assert set(query) == {"code", "state"}
    assert query["state"] == "state-123"
    assert query["code"] in kit.state.codes


def test_allow_without_state_sends_no_state(
    kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, kit, state=None)
    assert set(location_query(submit_consent(browser, kit, page))) == {"code"}


@pytest.mark.parametrize("state", ["state-123", None])
def test_deny_redirects_with_access_denied(
    kit: SandboxServer, browser: requests.Session, state: str | None
) -> None:
    page = open_consent(browser, kit, state=state)
    query = location_query(submit_consent(browser, kit, page, decision="deny"))
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query.get("state") == state
    assert "code" not in query
    assert kit.state.codes == {}


def test_consent_page_escapes_what_the_app_sent(
    kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, kit, tenant_name='<b>"x"</b>').text
    assert "<b>" not in page
    assert "&lt;b&gt;" in page
    assert form_fields(page)["tenant_name"] == '<b>"x"</b>'


@pytest.mark.parametrize(
    "csrf_token", ["", "forged"], ids=["missing-csrf", "wrong-csrf"]
)
def test_consent_post_needs_the_sessions_csrf_token(
    kit: SandboxServer, browser: requests.Session, csrf_token: str
) -> None:
    page = open_consent(browser, kit)
    response = submit_consent(browser, kit, page, csrf_token=csrf_token)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert kit.state.codes == {}


def test_consent_post_from_another_browser_is_refused(
    kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, kit)
    with requests.Session() as other_browser:
        response = submit_consent(other_browser, kit, page)
    assert response.status_code == 400
    assert kit.state.codes == {}


def test_consent_post_revalidates_the_redirect_uri(
    kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, kit)
    response = submit_consent(
        browser, kit, page, redirect_uri="https://evil.example/callback"
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_consent_post_with_an_unknown_account_shows_the_form_again(
    kit: SandboxServer, browser: requests.Session
) -> None:
    page = open_consent(browser, kit)
    response = submit_consent(browser, kit, page, account_id=999)
    assert response.status_code == 400
    assert "Choose the account" in response.text
    assert kit.state.codes == {}


# -- token endpoint: code exchange ----------------------------------------------


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize("basic", [False, True], ids=["body-creds", "basic-auth"])
def test_code_exchange_accepts_json_or_form_and_body_or_basic_credentials(
    kit: SandboxServer, browser: requests.Session, encoding: str, basic: bool
) -> None:
    code = get_code(browser, kit, account_id=str(BEN))
    before = int(time.time())
    response = token_request(kit, exchange_fields(code), encoding=encoding, basic=basic)
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
    account = get_account(kit, body["access_token"]).json()
    assert account["account"]["id"] == BEN

    logged = kit.state.token_requests[-1]
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
    kit: SandboxServer,
    browser: requests.Session,
    fields: dict[str, str | None],
    basic: bool,
) -> None:
    body = exchange_fields(get_code(browser, kit))
    for key, value in fields.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = token_request(kit, body, basic=basic)
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
    kit: SandboxServer,
    browser: requests.Session,
    change: dict[str, str | None],
    status: int,
    error: str,
) -> None:
    body = exchange_fields(get_code(browser, kit))
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    assert_oauth_error(token_request(kit, body), status, error)


def test_a_code_used_twice_fails_and_revokes_what_it_issued(
    kit: SandboxServer, browser: requests.Session
) -> None:
    code = get_code(browser, kit)
    first = token_request(kit, exchange_fields(code))
    assert first.status_code == 200
    refreshed = token_request(kit, refresh_fields(first.json()["refresh_token"]))
    assert refreshed.status_code == 200

    assert_oauth_error(token_request(kit, exchange_fields(code)), 400, "invalid_grant")
    # Everything descended from the replayed code is dead, refreshed tokens too.
    for tokens in (first.json(), refreshed.json()):
        response = get_account(kit, tokens["access_token"])
        assert response.status_code == 401
        assert response.json() == {"errors": ["The access token was revoked"]}


def test_an_expired_code_is_refused(
    kit: SandboxServer, browser: requests.Session
) -> None:
    code = get_code(browser, kit)
    kit.state.expire_codes()
    assert_oauth_error(token_request(kit, exchange_fields(code)), 400, "invalid_grant")


def test_code_lifetime_setting_applies(
    start_sandbox: StartSandbox, browser: requests.Session
) -> None:
    kit = start_sandbox(code_lifetime=0)
    code = get_code(browser, kit)
    assert_oauth_error(token_request(kit, exchange_fields(code)), 400, "invalid_grant")


def test_a_failed_exchange_leaves_the_code_usable(
    kit: SandboxServer, browser: requests.Session
) -> None:
    code = get_code(browser, kit)
    bad = token_request(kit, exchange_fields(code, redirect_uri="http://x/"))
    assert bad.status_code == 400
    assert token_request(kit, exchange_fields(code)).status_code == 200


# -- PKCE ----------------------------------------------------------------------


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
    kit: SandboxServer, browser: requests.Session
) -> None:
    verifier, challenge = pkce_pair()
    code = get_code(
        browser, kit, code_challenge=challenge, code_challenge_method="S256"
    )
    response = token_request(kit, exchange_fields(code, code_verifier=verifier))
    assert response.status_code == 200


# -- refresh -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize(
    "secret", ["none", "body", "basic"], ids=["no-secret", "secret", "basic"]
)
def test_refresh_rotates_the_pair(
    kit: SandboxServer, browser: requests.Session, encoding: str, secret: str
) -> None:
    old = connect(browser, kit, tenant_name="Site A")
    body = refresh_fields(old["refresh_token"])
    if secret != "none":
        body["client_secret"] = SECRET
    response = token_request(kit, body, encoding=encoding, basic=secret == "basic")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    new = response.json()
    assert new["expires_in"] == 7200
    assert new["token_type"] == "Bearer"
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]

    assert get_account(kit, new["access_token"]).status_code == 200
    stale = get_account(kit, old["access_token"])
    assert stale.status_code == 401
    assert stale.json() == {"errors": ["The access token was revoked"]}
    reuse = token_request(kit, refresh_fields(old["refresh_token"]))
    assert_oauth_error(reuse, 400, "invalid_grant")
    # The failed reuse doesn't take the newest pair down with it.
    assert get_account(kit, new["access_token"]).status_code == 200
    assert kit.state.find_access_token(new["access_token"]).tenant_name == "Site A"
    assert kit.state.stats()["refresh_requests"] == 2


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        pytest.param({"refresh_token": None}, 400, "invalid_request", id="missing"),
        pytest.param({"refresh_token": "made-up"}, 400, "invalid_grant", id="unknown"),
        pytest.param(
            {"client_secret": "wrong"}, 401, "invalid_client", id="bad-secret"
        ),
        pytest.param({"client_id": "other"}, 401, "invalid_client", id="other-client"),
    ],
)
def test_refresh_errors(
    kit: SandboxServer,
    browser: requests.Session,
    fields: dict[str, str | None],
    status: int,
    error: str,
) -> None:
    body = refresh_fields(connect(browser, kit)["refresh_token"])
    for key, value in fields.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    assert_oauth_error(token_request(kit, body), status, error)


def test_expired_access_token_still_refreshes(
    kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, kit)
    kit.state.expire_access_tokens()
    response = token_request(kit, refresh_fields(tokens["refresh_token"]))
    assert response.status_code == 200
    assert get_account(kit, response.json()["access_token"]).status_code == 200


def test_token_sets_per_tenant_coexist(
    kit: SandboxServer, browser: requests.Session
) -> None:
    site_a = connect(browser, kit, tenant_name="Site A")
    site_b = connect(browser, kit, tenant_name="Site B")
    token_request(kit, refresh_fields(site_a["refresh_token"]))
    assert get_account(kit, site_b["access_token"]).status_code == 200
    tenants = {ts.tenant_name for ts in kit.state.token_sets}
    assert tenants == {"Site A", "Site B"}


# -- /v4 API -------------------------------------------------------------------


def test_account_returns_kits_shape_for_the_tokens_account(
    kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, kit)
    response = get_account(kit, tokens["access_token"])
    assert response.status_code == 200
    assert response.json() == {
        "user": {"email": "ada@example.com", "id": 2001},
        "account": {
            "id": ADA,
            "name": "Ada's Kitchen",
            "plan_type": "creator_pro",
            "primary_email_address": "ada@example.com",
            "created_at": "2021-03-14T09:26:53Z",
            "timezone": {
                "name": "America/New_York",
                "friendly_name": "Eastern Time (US & Canada)",
                "utc_offset": "-05:00",
            },
        },
    }
    assert kit.state.api_requests == [
        {"method": "GET", "path": "/v4/account", "status": 200}
    ]


def spoil(kit: SandboxServer, access_token: str, how: str) -> str | None:
    """Make ``access_token`` unusable in one of the ways Kit knows."""
    if how == "missing":
        return None
    if how == "unknown":
        return "made-up"
    if how == "expired":
        kit.state.expire_access_tokens()
    elif how == "revoked":
        assert revoke(kit, access_token).status_code == 200
    elif how == "uninstalled":
        assert kit.state.revoke_all_for_account(ADA) == 1
    elif how == "after-reset":
        kit.state.reset()
    return access_token


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing", "The access token is invalid"),
        ("unknown", "The access token is invalid"),
        ("expired", "The access token expired"),
        ("revoked", "The access token was revoked"),
        ("uninstalled", "The access token was revoked"),
        ("after-reset", "The access token is invalid"),
    ],
)
def test_account_refuses_bad_tokens_in_kits_words(
    kit: SandboxServer, browser: requests.Session, how: str, message: str
) -> None:
    tokens = connect(browser, kit)
    response = get_account(kit, spoil(kit, tokens["access_token"], how))
    assert response.status_code == 401
    assert response.json() == {"errors": [message]}
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_non_bearer_authorization_header_is_invalid(kit: SandboxServer) -> None:
    response = requests.get(
        kit.url + "/v4/account", auth=(CLIENT_ID, SECRET), timeout=5
    )
    assert response.status_code == 401
    assert response.json() == {"errors": ["The access token is invalid"]}


@pytest.mark.parametrize("path", ["/v4/no_such_thing", "/v4/", "/v4/account/nope"])
def test_unknown_api_paths_are_kit_style_404s(kit: SandboxServer, path: str) -> None:
    response = requests.get(kit.url + path, timeout=5)
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not Found"]}


# -- revoke --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v4/oauth/revoke", "/oauth/revoke"])
@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_kills_the_pair(
    kit: SandboxServer, browser: requests.Session, path: str, which: str
) -> None:
    tokens = connect(browser, kit)
    response = revoke(kit, tokens[which], path=path, token_type_hint=which)
    assert response.status_code == 200
    assert response.content == b""
    assert get_account(kit, tokens["access_token"]).status_code == 401
    refresh = token_request(kit, refresh_fields(tokens["refresh_token"]))
    assert_oauth_error(refresh, 400, "invalid_grant")
    assert kit.state.revoke_requests[-1]["revoked"] is True


@pytest.mark.parametrize(
    ("token", "extra"),
    [
        pytest.param("made-up", {}, id="unknown-token"),
        pytest.param("", {}, id="empty-token"),
        pytest.param(None, {"client_secret": "wrong"}, id="wrong-secret"),
        pytest.param(None, {"client_id": "other"}, id="other-client"),
    ],
)
def test_revoke_always_answers_200_but_only_revokes_for_the_right_client(
    kit: SandboxServer,
    browser: requests.Session,
    token: str | None,
    extra: dict[str, str],
) -> None:
    tokens = connect(browser, kit)
    response = revoke(kit, tokens["access_token"] if token is None else token, **extra)
    assert response.status_code == 200
    assert response.content == b""
    assert get_account(kit, tokens["access_token"]).status_code == 200
    assert kit.state.revoke_requests[-1]["revoked"] is False


# -- legacy paths --------------------------------------------------------------


def test_legacy_paths_run_the_whole_flow(
    kit: SandboxServer, browser: requests.Session
) -> None:
    code = get_code(browser, kit, path="/oauth/authorize")
    response = token_request(kit, exchange_fields(code), path="/oauth/token")
    assert response.status_code == 200, response.text
    refreshed = token_request(
        kit, refresh_fields(response.json()["refresh_token"]), path="/oauth/token"
    )
    assert refreshed.status_code == 200
    assert [entry["path"] for entry in kit.state.token_requests] == [
        "/oauth/token",
        "/oauth/token",
    ]


# -- faults and latency --------------------------------------------------------


def call_endpoint(
    kit: SandboxServer, endpoint: str, tokens: dict[str, Any], timeout: float = 5
) -> requests.Response:
    """One call to ``endpoint`` that succeeds when no fault is planned."""
    if endpoint == "token":
        body = refresh_fields(tokens["refresh_token"])
        return token_request(kit, body, timeout=timeout)
    if endpoint == "revoke":
        return requests.post(
            kit.url + "/v4/oauth/revoke",
            data={"token": "made-up", "client_id": CLIENT_ID, "client_secret": SECRET},
            timeout=timeout,
        )
    return get_account(kit, tokens["access_token"], timeout=timeout)


FAULTS = [
    ("token", "500", 500, "application/json"),
    ("token", "not_json", 200, "text/html"),
    ("token", "invalid_grant", 400, "application/json"),
    ("revoke", "500", 500, "application/json"),
    ("revoke", "not_json", 200, "text/html"),
    ("api", "500", 500, "application/json"),
    ("api", "not_json", 200, "text/html"),
    ("api", "429", 429, "text/plain"),
    ("api", "401_invalid", 401, "application/json"),
]


@pytest.mark.parametrize(("endpoint", "kind", "status", "mimetype"), FAULTS)
def test_a_planned_fault_fails_one_call_then_service_resumes(
    kit: SandboxServer,
    browser: requests.Session,
    endpoint: str,
    kind: str,
    status: int,
    mimetype: str,
) -> None:
    tokens = connect(browser, kit)
    kit.state.add_fault(endpoint, kind)
    failed = call_endpoint(kit, endpoint, tokens)
    assert failed.status_code == status
    assert failed.headers["Content-Type"].startswith(mimetype)
    if kind == "not_json":
        with pytest.raises(requests.JSONDecodeError):
            failed.json()
    if kind == "429":
        assert failed.text == "Retry later"
        assert "Retry-After" not in failed.headers
    if kind == "500" and endpoint == "api":
        assert failed.json() == {"errors": ["Internal server error"]}
    if kind == "invalid_grant":
        assert failed.json()["error"] == "invalid_grant"
    if kind == "401_invalid":
        assert failed.json() == {"errors": ["The access token is invalid"]}
    # The fault did no work: the same refresh token still works afterwards.
    assert call_endpoint(kit, endpoint, tokens).status_code == 200


@pytest.mark.parametrize("endpoint", ["token", "revoke", "api"])
def test_a_timeout_fault_stalls_then_answers_504(
    kit: SandboxServer, browser: requests.Session, endpoint: str
) -> None:
    tokens = connect(browser, kit)
    kit.state.timeout_seconds = 0.3
    kit.state.add_fault(endpoint, "timeout", times=2)
    with pytest.raises(requests.ReadTimeout):
        call_endpoint(kit, endpoint, tokens, timeout=0.05)
    assert call_endpoint(kit, endpoint, tokens).status_code == 504
    assert call_endpoint(kit, endpoint, tokens).status_code == 200


def test_faults_count_down_and_can_be_cleared(
    kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, kit)
    kit.state.add_fault("api", "500", times=2)
    statuses = [call_endpoint(kit, "api", tokens).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    kit.state.add_fault("api", "500", times=5)
    kit.state.clear_faults()
    assert call_endpoint(kit, "api", tokens).status_code == 200
    logged = [entry["status"] for entry in kit.state.api_requests]
    assert logged == [500, 500, 200, 200]


@pytest.mark.parametrize(
    ("endpoint", "kind", "times"),
    [
        ("api", "invalid_grant", 1),
        ("token", "429", 1),
        ("revoke", "invalid_grant", 1),
        ("authorize", "500", 1),
        ("api", "teapot", 1),
        ("api", "500", 0),
    ],
)
def test_impossible_faults_are_refused(
    kit: SandboxServer, endpoint: str, kind: str, times: int
) -> None:
    with pytest.raises(ValueError):
        kit.state.add_fault(endpoint, kind, times)
    response = requests.post(
        kit.url + "/_sandbox/faults",
        json={"endpoint": endpoint, "kind": kind, "times": times},
        timeout=5,
    )
    assert response.status_code == 400
    assert kit.state.faults == []


@pytest.mark.parametrize("endpoint", ["token", "revoke", "api"])
def test_latency_is_added_to_every_call(
    start_sandbox: StartSandbox, browser: requests.Session, endpoint: str
) -> None:
    kit = start_sandbox()
    tokens = connect(browser, kit)
    kit.config.latency_ms = 150
    started = time.monotonic()
    assert call_endpoint(kit, endpoint, tokens).status_code == 200
    # A lower bound only: sleep() never returns early, so this can't flake.
    assert time.monotonic() - started >= 0.15


# -- control API ---------------------------------------------------------------


def control(kit: SandboxServer, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(
        method, kit.url + "/_sandbox" + path, timeout=5, **kwargs
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_control_api_stats_counts_requests(
    kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, kit)
    token_request(kit, refresh_fields(tokens["refresh_token"]))
    get_account(kit, tokens["access_token"])
    assert control(kit, "GET", "/stats") == {
        "token_requests": 2,
        "refresh_requests": 1,
        "revoke_requests": 0,
        "api_requests": 1,
        "install_completions": 0,
    }
    logs = control(kit, "GET", "/requests")
    assert [entry["grant_type"] for entry in logs["token_requests"]] == [
        "authorization_code",
        "refresh_token",
    ]


def test_control_api_plans_and_clears_faults(
    kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, kit)
    planned = control(
        kit, "POST", "/faults", json={"endpoint": "api", "kind": "429", "times": 3}
    )
    assert planned == {"faults": [{"endpoint": "api", "kind": "429", "remaining": 3}]}
    assert get_account(kit, tokens["access_token"]).status_code == 429
    assert control(kit, "DELETE", "/faults") == {"faults": []}
    assert get_account(kit, tokens["access_token"]).status_code == 200


def test_control_api_changes_settings(
    kit: SandboxServer, browser: requests.Session
) -> None:
    settings = control(
        kit,
        "POST",
        "/settings",
        json={"access_token_lifetime": 60, "refreshed_token_lifetime": 30},
    )
    assert settings["access_token_lifetime"] == 60
    tokens = connect(browser, kit)
    assert tokens["expires_in"] == 60
    refreshed = token_request(kit, refresh_fields(tokens["refresh_token"])).json()
    assert refreshed["expires_in"] == 30
    control(kit, "POST", "/settings", json={"timeout_seconds": 0.25})
    assert kit.state.timeout_seconds == 0.25


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
def test_control_api_refuses_bad_settings(kit: SandboxServer, body: dict) -> None:
    response = requests.post(kit.url + "/_sandbox/settings", json=body, timeout=5)
    assert response.status_code == 400
    assert "error" in response.json()
    assert kit.config.latency_ms == 0
    assert kit.config.code_lifetime == 600


def test_control_api_expires_revokes_and_resets(
    kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, kit)
    control(kit, "POST", "/expire-tokens")
    expired = get_account(kit, tokens["access_token"])
    assert expired.json() == {"errors": ["The access token expired"]}

    fresh = connect(browser, kit, account_id=str(BEN))
    assert control(kit, "POST", "/revoke-account", json={"account_id": BEN}) == {
        "revoked": 1
    }
    revoked = get_account(kit, fresh["access_token"])
    assert revoked.json() == {"errors": ["The access token was revoked"]}

    kit.state.add_fault("token", "500")
    control(kit, "POST", "/reset")
    assert kit.state.faults == []
    assert kit.state.token_sets == []
    assert control(kit, "GET", "/stats")["token_requests"] == 0
    assert len(kit.state.accounts) >= 2


# -- in-process API ------------------------------------------------------------


def test_create_sandbox_app_shares_a_given_state() -> None:
    state = SandboxState(SandboxConfig(app_name="Shared"))
    app = create_sandbox_app(state=state)
    client = app.test_client()
    assert b"Shared" in client.get("/apps/4242").data
    with pytest.raises(ValueError):
        create_sandbox_app(SandboxConfig(), state)


def test_control_api_answers_only_loopback_clients() -> None:
    client = create_sandbox_app().test_client()
    remote = client.get("/_sandbox/stats", environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert remote.status_code == 403
    local = client.get("/_sandbox/stats", environ_base={"REMOTE_ADDR": "::1"})
    assert local.status_code == 200


def test_server_url_is_known_only_once_started() -> None:
    server = SandboxServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        assert requests.get(server.url + "/_sandbox/stats", timeout=5).ok
    with pytest.raises(RuntimeError):
        _ = server.url
