"""`flask kit doctor`: one line per check, with the fix; exit 1 on a failure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from cryptography.fernet import Fernet

from app.cli.doctor import clock
from tests.servers import free_port

KEY = Fernet.generate_key().decode()


def doctor(app):  # type: ignore[no-untyped-def]
    """Run `flask kit doctor`: its result, and its lines by check name."""
    result = app.test_cli_runner().invoke(args=["kit", "doctor"])
    checks = {}
    for line in result.output.splitlines():
        if line[:4] in ("PASS", "WARN", "FAIL"):
            name = line[5:].split(":")[0]
            checks[name] = line
    return result, checks


def test_a_development_setup_passes_with_warnings(make_app, kit):
    result, checks = doctor(make_app())
    assert result.exit_code == 0, result.output
    for name in ("database", "Kit authorize", "Kit token", "Kit API", "clock"):
        assert checks[name].startswith("PASS"), checks[name]
    assert checks["redirect URI"].startswith("WARN")
    assert "set KIT_REDIRECT_URI" in checks["redirect URI"]
    assert checks["cookies"].startswith("WARN")


def test_production_turns_shortcuts_into_failures_with_fixes(make_app, kit):
    app = make_app(
        APP_ENV="production",
        SECRET_KEY="short",
        TOKEN_ENCRYPTION_KEYS=KEY,
        KIT_REDIRECT_URI="http://app.example.com/kit/oauth/callback",
    )
    app.config["SESSION_COOKIE_SECURE"] = False
    result, checks = doctor(app)
    assert result.exit_code == 1
    assert checks["secret key"].startswith("FAIL")
    assert "token_urlsafe" in checks["secret key"]
    assert checks["redirect URI"].startswith("FAIL")
    assert "https" in checks["redirect URI"]
    assert checks["cookies"].startswith("FAIL")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert checks["row locks"].startswith("FAIL")  # one host only, in production
    else:
        assert checks["row locks"].startswith("PASS")
    assert checks["encryption keys"].startswith("PASS")


def test_a_wrong_callback_path_is_named(make_app, kit):
    app = make_app(KIT_REDIRECT_URI="https://app.example.com/oauth/cb")
    _, checks = doctor(app)
    assert checks["redirect URI"].startswith("FAIL")
    assert "/kit/oauth/callback" in checks["redirect URI"]


def test_unreachable_kit_fails_with_a_fix(make_app):
    app = make_app(KIT_API_URL=f"http://127.0.0.1:{free_port()}", KIT_HTTP_TIMEOUT=1)
    result, checks = doctor(app)
    assert result.exit_code == 1
    assert checks["Kit token"].startswith("FAIL")
    assert "check the KIT_* URLs" in checks["Kit token"]
    assert checks["clock"].startswith("WARN")


def test_clock_skew_beyond_a_minute_fails():
    now = datetime.now(UTC)
    assert clock(format_datetime(now, usegmt=True)).status == "PASS"
    late = clock(format_datetime(now - timedelta(minutes=5), usegmt=True))
    assert late.status == "FAIL"
    assert re.match(r"\+(299|30[01]) s off", late.detail)
    assert "NTP" in late.fix


def test_several_workers_without_a_shared_store_fail_in_production(make_app):
    production = {
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "TOKEN_ENCRYPTION_KEYS": KEY,
    }
    result, checks = doctor(make_app(WEB_CONCURRENCY=3, **production))
    assert result.exit_code == 1
    line = checks["shared store"]
    assert line.startswith("FAIL")
    assert "no REDIS_URL with 3 workers" in line
    assert "set REDIS_URL=redis://" in line
    assert "WEB_CONCURRENCY=1" in line

    _, checks = doctor(make_app(WEB_CONCURRENCY=1, **production))
    assert checks["shared store"].startswith("PASS")
    _, checks = doctor(make_app(WEB_CONCURRENCY=3, REDIS_URL="redis://r", **production))
    assert checks["shared store"].startswith("PASS")
    _, checks = doctor(make_app(WEB_CONCURRENCY=3))  # development: a warning
    assert checks["shared store"].startswith("WARN")
