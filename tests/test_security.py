"""Web security: headers, cookies, sessions, rate limits, error pages, logs."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import abort

from tests.support import PASSWORD, install, sign_up

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


# --- headers ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/signup", "/healthz", "/nowhere"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_forms_may_lead_only_here_and_to_kit(client, kit):
    csp = client.get("/").headers["Content-Security-Policy"]
    form_action = re.search(r"form-action ([^;]+)", csp).group(1).split()
    assert form_action == ["'self'", kit.url]


def test_no_template_has_inline_script_or_event_handlers():
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text()
        assert "<script" not in html, template
        assert not re.search(r"\son[a-z]+\s*=", html), template
        assert "javascript:" not in html, template


def test_pages_are_not_cached_by_browsers_or_proxies(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


# --- cookies and sessions -------------------------------------------------------------


def test_production_cookies_are_secure_httponly_and_lax(make_app):
    app = make_app(
        APP_ENV="production",
        SECRET_KEY="a-real-secret",
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    client = app.test_client()
    response = client.post(
        "/signup",
        data={"email": "p@example.com", "password": PASSWORD, "confirm": PASSWORD},
        base_url="https://localhost",
    )
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    strict_transport = client.get("/", base_url="https://localhost").headers
    assert strict_transport["Strict-Transport-Security"].startswith("max-age=")


def test_signing_in_starts_a_new_session(client):
    sign_up(client)
    client.post("/logout")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"email": "creator@example.com", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


# --- rate limits ----------------------------------------------------------------------


def test_sign_in_is_rate_limited_with_a_friendly_page(make_app):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    answers = [
        client.post("/login", data={"email": "x@example.com", "password": "wrong"})
        for _ in range(11)
    ]
    assert [a.status_code for a in answers[:10]] == [400] * 10
    assert answers[10].status_code == 429
    assert "Too many requests" in answers[10].text
    assert "Wait a minute" in answers[10].text
    # Looking at the page is not limited; only attempts are.
    assert client.get("/login").status_code == 200


def test_sign_up_and_the_oauth_routes_are_rate_limited(make_app):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    codes = [
        client.post("/signup", data={"email": "bad"}).status_code for _ in range(6)
    ]
    assert codes[-1] == 429
    codes = [client.get("/kit/oauth/callback").status_code for _ in range(31)]
    assert codes[:30] == [400] * 30
    assert codes[30] == 429


# --- error pages ----------------------------------------------------------------------


@pytest.fixture
def failing_routes(app):  # type: ignore[no-untyped-def]
    def forbidden() -> None:
        abort(403)

    def broken() -> None:
        raise RuntimeError("secret detail that must not be shown")

    app.add_url_rule("/test-forbidden", view_func=forbidden)
    app.add_url_rule("/test-broken", view_func=broken)
    return app


@pytest.mark.parametrize(
    ("method", "path", "status", "advice"),
    [
        ("GET", "/kit/oauth?redirect=https://evil.com", 400, "Start the install again"),
        ("GET", "/test-forbidden", 403, "Sign in with the account"),
        ("GET", "/no/such/page", 404, "Check the address"),
        ("POST", "/healthz", 405, "Use the buttons"),
        ("GET", "/test-broken", 500, "Try again in a moment"),
    ],
)
def test_error_pages_say_what_to_do_and_show_no_trace(
    failing_routes, method, path, status, advice
):
    client = failing_routes.test_client()
    page = client.open(path, method=method)
    assert page.status_code == status
    assert page.mimetype == "text/html"
    assert advice in page.text
    assert "Traceback" not in page.text
    assert "secret detail" not in page.text

    as_json = client.open(path, method=method, headers={"Accept": "application/json"})
    assert as_json.status_code == status
    assert as_json.json["status"] == status
    assert as_json.json["message"]
    assert "secret detail" not in as_json.text


def test_the_500_handler_rolls_back_and_logs(failing_routes, caplog):
    with caplog.at_level(logging.ERROR):
        failing_routes.test_client().get("/test-broken")
    assert any("Unhandled error" in r.getMessage() for r in caplog.records)


# --- no secret in any log record ------------------------------------------------------


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_no_secret_reaches_any_log_record_during_the_whole_journey(
    make_app, kit, kit_browser
):
    from app.kit.tokens import valid_access_token

    collect = Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        app = make_app(LOG_LEVEL="DEBUG")
        client = app.test_client()
        sign_up(client)
        install(client, kit_browser)
        kit.state.expire_access_tokens()
        client.get("/dashboard")  # 401 expired → refresh → retry
        with app.app_context():
            valid_access_token(1, app.extensions["kit_settings"], rejected_token="x")
        client.get("/connections/1")
        client.post("/connections/1/disconnect")
        logging.getLogger("test").warning(
            "a careless line: Authorization: Bearer %s",
            kit.state.token_sets[0].access_token,
        )
    finally:
        root.removeHandler(collect)
        root.setLevel(level)

    secrets = {kit.config.client_secret}
    for request in kit.state.token_requests + kit.state.revoke_requests:
        for name in (
            "code",
            "code_verifier",
            "refresh_token",
            "token",
            "client_secret",
        ):
            if request["params"].get(name):
                secrets.add(request["params"][name])
    for token_set in kit.state.token_sets:
        secrets.update({token_set.access_token, token_set.refresh_token})
    assert len(secrets) > 6
    logged = "\n".join(collect.lines)
    assert "Refreshed the Kit token" in logged  # the journey's records were caught
    assert "Bearer [redacted]" in logged
    leaked = [s for s in secrets if s and s in logged]
    assert leaked == []
