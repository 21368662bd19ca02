"""`flask kit doctor --review`: Kit's App Store review checklist against a
production configuration, misconfigured and correct: each line PASS or FAIL
with the fix, exit 1 on a FAIL, the OAuth paths reviewers try driven through
the sandbox, and the values to paste into Kit's app details."""

from __future__ import annotations

from cryptography.fernet import Fernet
from flask import Flask

from app.config import ConfigError
from tests.servers import free_port, serving

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}
CORRECT = {
    **PRODUCTION,
    "KIT_REDIRECT_URI": "https://app.example.com/kit/oauth/callback",
    "PUBLIC_BASE_URL": "https://app.example.com",
    "KIT_APP_ID": "4242",
    "SUPPORT_EMAIL": "support@example.com",
    "MAIL_DEFAULT_SENDER": "Kit App <no-reply@example.com>",
    "REDIS_URL": "redis://127.0.0.1:9/0",  # named, not reached by these checks
}


def review(app: Flask, *flags: str):  # type: ignore[no-untyped-def]
    """Run the command: its result, and its check lines by name."""
    result = app.test_cli_runner().invoke(args=["kit", "doctor", "--review", *flags])
    lines = {}
    for line in result.output.splitlines():
        if line[:4] in ("PASS", "WARN", "FAIL", "SKIP"):
            lines[line[5:].split(":")[0]] = line
    return result, lines


def test_a_misconfigured_production_app_fails_with_what_to_fix(make_app, kit):
    app = make_app(
        **PRODUCTION,
        KIT_REDIRECT_URI="https://app.example.com/oauth/back",
        PUBLIC_BASE_URL="http://app.example.com",
        MAIL_SERVER=None,
        WEB_CONCURRENCY=3,
        KIT_PLUGIN_CLIENT_ID="kit-plugins",
    )
    result, lines = review(app)
    print(result.output)  # the note's copy: pytest -s
    assert result.exit_code == 1
    expected = {
        "redirect URI": "does not end in /kit/oauth/callback",
        "public URL": "http://app.example.com is not https",
        "shared store": "no REDIS_URL with 3 workers",
        "mail": "no MAIL_SERVER",
        "https everywhere": "Authorization URL http://app.example.com/kit/oauth",
        "redirect URI exact": "set KIT_REDIRECT_URI=https://app.example.com/kit/oauth",
        "install link": "set KIT_APP_ID",
        "support contact": "set SUPPORT_EMAIL",
    }
    for name, words in expected.items():
        assert lines[name].startswith("FAIL"), lines[name]
        assert words in lines[name], lines[name]
    for name in ("Help", "Support", "Privacy"):
        assert lines[name].startswith("PASS"), lines[name]
    for name in ("Plugin authorize", "Plugin token", "Plugin refresh", "Plugin revoke"):
        endpoint = "plugins." + name.split()[1]
        if endpoint not in app.view_functions:
            assert lines[name] == f"FAIL {name}: not served ({endpoint}) → add the " + (
                f"route (endpoint {endpoint})"
            )
    assert lines["OAuth paths"].startswith("SKIP")
    assert "--sandbox" in lines["OAuth paths"]
    assert "Authorization URL:     http://app.example.com/kit/oauth" in result.output


def test_a_correct_production_app_passes_the_review(make_app, kit):
    app = make_app(**CORRECT)
    result, lines = review(app, "--sandbox")
    print(result.output)
    failed = {name for name, line in lines.items() if line.startswith("FAIL")}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite's one write lock is one host only: production wants PostgreSQL.
        assert failed == {"row locks"}, result.output
    else:
        assert failed == set(), result.output
        assert result.exit_code == 0
    for path in ("brand-new sign-up", "signed in", "signed out", "account with data"):
        assert lines[f"OAuth path ({path})"].startswith("PASS"), result.output
    # app.example.com does not answer from here: the pages are checked in-process.
    assert lines["live app"].startswith(
        "SKIP live app: https://app.example.com/healthz"
    )
    assert lines["App settings"] == (
        "PASS App settings: GET /kit/settings → 302 (sign in first)"
    )
    pasted = result.output[result.output.index("Paste into") :]
    for value in (
        "Authorization URL:     https://app.example.com/kit/oauth",
        "Redirect URI:          https://app.example.com/kit/oauth/callback",
        "Help URL:              https://app.example.com/help",
        "Support URL:           https://app.example.com/support",
        "Privacy policy URL:    https://app.example.com/privacy",
        "App settings URL:      https://app.example.com/kit/settings",
        "return_to domain:      app.example.com",
    ):
        assert value in pasted, pasted


def test_configured_pages_are_fetched_and_named(make_app, kit):
    app = make_app(
        **CORRECT,
        HELP_URL=f"https://127.0.0.1:{kit.port}/nothing-here",
        PRIVACY_URL="https://example.invalid/privacy",
    )
    _, lines = review(app)
    assert lines["Help"].startswith("FAIL")
    assert "check HELP_URL" in lines["Help"]
    assert lines["Privacy"].startswith("FAIL")
    assert "check PRIVACY_URL" in lines["Privacy"]


def test_http_listing_urls_never_reach_the_review_in_production(make_app):
    try:
        make_app(**CORRECT, SUPPORT_URL="http://example.com/support")
    except ConfigError as refused:
        assert "SUPPORT_URL is http://example.com/support" in str(refused)
    else:
        raise AssertionError("production started with an http SUPPORT_URL")


def test_the_live_app_is_checked_over_the_network(make_app, kit):
    """Where the app answers at PUBLIC_BASE_URL, its pages are fetched there,
    as Kit's reviewers reach them."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    app = make_app(
        **{
            **CORRECT,
            "PUBLIC_BASE_URL": origin,
            "KIT_REDIRECT_URI": f"{origin}/kit/oauth/callback",
        }
    )
    with serving(app, port):
        _, lines = review(app)
    assert lines["live app"] == (
        f"PASS live app: GET {origin}/healthz → 200: pages checked over the network"
    )
    assert lines["Help"] == f"PASS Help: GET {origin}/help → 200"
    assert lines["App settings"] == (
        f"PASS App settings: GET {origin}/kit/settings → 302 (sign in first)"
    )
