"""Web security: headers, cookies, sessions, rate limits, request bodies and
hosts, error pages, logs."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import flask
import pytest
from cryptography.fernet import Fernet
from flask import abort

from app.edge import accepts_body
from tests.support.accounts import PASSWORD, csrf_token, sign_up
from tests.support.installing import install

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
        # Only external scripts from this site (CSP script-src 'self'), empty.
        for script in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            attributes, body = script.groups()
            assert "url_for('static'" in attributes, template
            assert body.strip() == "", template
        assert html.count("<script") == len(re.findall(r"<script\b[^>]*>", html))
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
        PUBLIC_BASE_URL="https://localhost",  # a host this app serves
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


# --- request bodies and hosts ---------------------------------------------------------

LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH


def test_a_body_over_the_limit_is_refused_before_csrf_or_the_rate_limit(make_app):
    client = make_app(RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=True).test_client()
    big = {"email": "x@example.com", "password": "x" * LIMIT}
    answers = [client.post("/login", data=big) for _ in range(12)]
    # Neither "this form has expired" (CSRF) nor 429 (the limit never counted).
    assert [a.status_code for a in answers] == [413] * 12
    assert "shorten what you entered" in answers[0].text
    assert client.get("/login").status_code == 200


def test_a_chunked_body_is_cut_off_at_the_limit(client):
    """No Content-Length to check up front: the limit applies while reading."""

    def post(password_length: int):  # type: ignore[no-untyped-def]
        body = b"email=x%40example.com&password=" + b"x" * password_length
        return client.post(
            "/login",
            input_stream=io.BytesIO(body),
            content_type="application/x-www-form-urlencoded",
            headers={"Transfer-Encoding": "chunked"},  # no Content-Length
            environ_overrides={"wsgi.input_terminated": True},  # as gunicorn's
        )

    assert post(LIMIT).status_code == 413
    small = post(20)
    assert small.status_code == 400  # read and parsed: a wrong password
    assert "do not match an account" in small.text


def test_one_route_may_take_a_larger_body_of_another_type(app):
    @accepts_body(1024 * 1024, ["application/json"])
    def hook() -> dict:
        return {"size": len(flask.request.get_data())}

    app.add_url_rule("/test-hook", view_func=hook, methods=["POST"])
    client = app.test_client()
    body = json.dumps({"events": ["x" * 1000] * 200})  # ~200 KB
    answer = client.post("/test-hook", data=body, content_type="application/json")
    assert answer.json == {"size": len(body)}
    too_big = " " * (1024 * 1024 + 1)
    assert (
        client.post("/test-hook", data=too_big, content_type="application/json")
    ).status_code == 413
    assert client.post(
        "/test-hook", data="x", content_type="text/plain"
    ).status_code == (415)
    # The other routes keep the small default.
    assert client.post("/login", data={"password": "x" * LIMIT}).status_code == 413


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"email": {"a": 1}}'),
        ("application/json", "123"),
        ("text/plain", "email=x"),
        ("application/xml", "<email/>"),
    ],
)
def test_form_routes_take_form_posts_only(make_app, content_type, body):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token(client.get("/login"))
    answer = client.post(
        "/login", data=body, content_type=content_type, headers={"X-CSRFToken": token}
    )
    assert answer.status_code == 415
    assert "form posts only" in answer.text


def test_only_the_hosts_the_app_serves_are_answered(make_app):
    development = make_app().test_client()  # localhost and 127.0.0.1
    assert development.get("/login").status_code == 200
    assert development.get("/login", base_url="http://127.0.0.1:5000").status_code == (
        200
    )
    refused = development.get("/login", base_url="http://evil.example")
    assert refused.status_code == 400
    assert "This address is not served here" in refused.text

    production = make_app(
        APP_ENV="production",
        SECRET_KEY="a-real-secret",
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        KIT_REDIRECT_URI="https://app.example.com/kit/oauth/callback",
    ).test_client()
    assert production.get("/login", base_url="https://app.example.com").status_code == (
        200
    )
    assert production.get("/login", base_url="https://localhost").status_code == 400

    subdomains = make_app(ALLOWED_HOSTS=".example.com").test_client()
    assert subdomains.get("/healthz", base_url="http://a.example.com").status_code == (
        200
    )
    assert subdomains.get("/healthz").status_code == 400


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
