"""`flask --app app kit doctor`: is this deployment ready to install from Kit?

Each check returns one line: PASS, WARN (fine for development, not for
production) or FAIL, with the fix. Nothing here changes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext
from sqlalchemy import text

from app.config import public_base_url
from app.extensions import db
from app.kit.probe import Probe, clock_skew, probe_endpoints

MAX_CLOCK_SKEW = 60  # seconds; token expiry is computed from Kit's clock and ours


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # PASS | WARN | FAIL
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" → {self.fix}" if self.fix and self.status != "PASS" else ""
        return f"{self.status:<4} {self.name}: {self.detail}{fix}"


def run_checks(app: Flask) -> list[Check]:
    checks: list[Callable[[Flask], Check | list[Check]]] = [
        secret_key,
        encryption_keys,
        redirect_uri,
        public_url,
        cookies,
        shared_store,
        outgoing_mail,
        database,
        token_pairs,
        kit_endpoints,
    ]
    results: list[Check] = []
    for check in checks:
        outcome = check(app)
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results


def _production(app: Flask) -> bool:
    return app.config["APP_ENV"] == "production"


def _weak(app: Flask, name: str, detail: str, fix: str) -> Check:
    """A shortcut that is fine in development and wrong in production."""
    return Check(name, "FAIL" if _production(app) else "WARN", detail, fix)


def secret_key(app: Flask) -> Check:
    key = app.config["SECRET_KEY"] or ""
    if len(key) < 32:
        return _weak(
            app,
            "secret key",
            f"SECRET_KEY is only {len(key)} characters",
            "use 32+ random characters: "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    if not app.config.get("SECRET_KEY_FROM_ENV"):
        return _weak(
            app,
            "secret key",
            "generated and kept in instance/secret_key",
            "set SECRET_KEY in the environment",
        )
    return Check("secret key", "PASS", "set from the environment")


def encryption_keys(app: Flask) -> Check:
    keys = app.config["TOKEN_ENCRYPTION_KEYS"]
    if not app.config.get("TOKEN_ENCRYPTION_KEYS_FROM_ENV"):
        return _weak(
            app,
            "encryption keys",
            "derived from SECRET_KEY (development)",
            "set TOKEN_ENCRYPTION_KEYS to a Fernet key: python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
        )
    extra = f" (+{len(keys) - 1} older for decryption)" if len(keys) > 1 else ""
    return Check("encryption keys", "PASS", f"{len(keys)} valid Fernet key(s){extra}")


def redirect_uri(app: Flask) -> Check:
    configured = app.config["KIT_REDIRECT_URI"]
    with app.test_request_context():
        expected_path = url_for("install.callback")
        uri = configured or url_for("install.callback", _external=True)
    parts = urlsplit(uri)
    if parts.path != expected_path:
        return Check(
            "redirect URI",
            "FAIL",
            f"{uri} does not end in {expected_path}",
            f"set KIT_REDIRECT_URI to https://<your host>{expected_path}",
        )
    if not configured:
        return _weak(
            app,
            "redirect URI",
            "taken from each request's host",
            "set KIT_REDIRECT_URI to exactly the Redirect URI registered at Kit",
        )
    if parts.scheme != "https":
        return _weak(
            app,
            "redirect URI",
            f"{uri} is not https",
            "Kit requires https in production",
        )
    return Check("redirect URI", "PASS", f"{uri} (register exactly this at Kit)")


def public_url(app: Flask) -> Check:
    """PUBLIC_BASE_URL: where Kit delivers webhooks, so an origin Kit reaches."""
    base = public_base_url(app.config)
    fix = "set PUBLIC_BASE_URL to the app's public origin, https://<your host>"
    if not base:
        detail = "no PUBLIC_BASE_URL or KIT_REDIRECT_URI"
        return Check("public URL", "FAIL", detail, fix)
    parts = urlsplit(base)
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
        well_formed = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and parts.path in ("", "/")
            and not (parts.query or parts.fragment or parts.username)
        )
    except ValueError:
        well_formed = False
    if not well_formed:
        return Check("public URL", "FAIL", f"{base} is not an origin", fix)
    if parts.scheme != "https":
        fix = "Kit delivers webhooks over https only"
        return _weak(app, "public URL", f"{base} is not https", fix)
    source = "" if app.config.get("PUBLIC_BASE_URL") else " (from KIT_REDIRECT_URI)"
    return Check("public URL", "PASS", f"{base}{source}: Kit delivers webhooks here")


def cookies(app: Flask) -> Check:
    config = app.config
    problems = []
    if not config["SESSION_COOKIE_SECURE"]:
        problems.append("not Secure")
    if not config["SESSION_COOKIE_HTTPONLY"]:
        problems.append("not HttpOnly")
    if config["SESSION_COOKIE_SAMESITE"] != "Lax":
        # Strict loses the session on the return from Kit; None sends it
        # on every cross-site request.
        problems.append(f"SameSite={config['SESSION_COOKIE_SAMESITE']}, not Lax")
    if not problems:
        return Check("cookies", "PASS", "Secure, HttpOnly, SameSite=Lax")
    return _weak(
        app,
        "cookies",
        "session cookie " + ", ".join(problems),
        "serve over https and leave SESSION_COOKIE_* at their production defaults",
    )


def shared_store(app: Flask) -> Check:
    """Rate limits and cache live in each process unless REDIS_URL is set."""
    if app.config["REDIS_URL"]:
        return Check(
            "shared store", "PASS", "REDIS_URL: limits and cache shared by every worker"
        )
    workers = app.config["WEB_CONCURRENCY"]
    if workers == 1:
        return Check("shared store", "PASS", "one worker: in-process limits and cache")
    return _weak(
        app,
        "shared store",
        f"no REDIS_URL with {workers} workers (WEB_CONCURRENCY): each counts rate "
        "limits and caches Kit's answers on its own, so limits let through "
        f"{workers} times as much and pages go stale after a write",
        "set REDIS_URL=redis://<host>:6379/0 (or WEB_CONCURRENCY=1); gunicorn "
        "refuses to start in production without it",
    )


def outgoing_mail(app: Flask) -> Check:
    """Sign-up confirmations and password resets go by mail (app/mail.py)."""
    config = app.config
    fix = (
        "set MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS "
        "and MAIL_DEFAULT_SENDER (see .env.example)"
    )
    if not config["MAIL_SERVER_FROM_ENV"]:
        where = (
            "sent to localhost:25"
            if config["MAIL_BACKEND"] == "smtp"
            else "printed to the console (`flask kit dev`: the sandbox's outbox)"
        )
        return _weak(app, "mail", f"no MAIL_SERVER: account mail is {where}", fix)
    server = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    if config["MAIL_USERNAME"] and not (
        config["MAIL_USE_TLS"] or config["MAIL_USE_SSL"]
    ):
        return _weak(
            app,
            "mail",
            f"{server} with a password but no encryption",
            "set MAIL_USE_TLS=true (port 587) or MAIL_USE_SSL=true (port 465)",
        )
    if config["MAIL_DEFAULT_SENDER"].endswith("@localhost>"):
        return _weak(
            app, "mail", f"{server}, sender {config['MAIL_DEFAULT_SENDER']}", fix
        )
    return Check("mail", "PASS", f"SMTP {server} as {config['MAIL_DEFAULT_SENDER']}")


def database(app: Flask) -> list[Check]:
    with app.app_context():
        engine = db.engine
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT 1 FOR UPDATE"))
        except Exception as exc:  # any driver error: report, don't crash
            return [
                Check(
                    "database",
                    "FAIL",
                    f"{engine.url.render_as_string(hide_password=True)}: "
                    f"{type(exc).__name__}",
                    "check DATABASE_URL, then run flask --app app db upgrade",
                )
            ]
        name = engine.dialect.name
    reachable = Check("database", "PASS", f"{name} answers")
    if name == "postgresql":
        return [reachable, Check("row locks", "PASS", "SELECT ... FOR UPDATE works")]
    return [
        reachable,
        _weak(
            app,
            "row locks",
            f"{name}: one database-wide write lock (safe, on one host only)",
            "use PostgreSQL (DATABASE_URL=postgresql+psycopg://...) for several hosts",
        ),
    ]


def token_pairs(app: Flask) -> Check:
    """Pairs Kit issued that wait on disk, and refreshes whose outcome is
    unknown (see `app.cli.connections.token_pair_report`)."""
    from app.cli.connections import token_pair_report

    with app.app_context():
        try:
            status, detail, fix = token_pair_report()
        except Exception as exc:  # any driver error: the database check says it
            return Check("token pairs", "WARN", f"not checked ({type(exc).__name__})")
    return Check("token pairs", status, detail, fix)


def kit_endpoints(app: Flask) -> list[Check]:
    """Each endpoint must answer over HTTP; any answer (even 400/401) will do."""
    probes = probe_endpoints(app.extensions["kit_settings"])
    results = [endpoint(probe) for probe in probes]
    kit_date = next((p.date for p in probes if p.answered and p.date), None)
    results.append(clock(kit_date))
    return results


def endpoint(probe: Probe) -> Check:
    if probe.answered:
        return Check(probe.name, "PASS", f"{probe.url} answers ({probe.status})")
    if probe.status is None:
        detail, fix = f"{probe.url}: {probe.error}", "check the KIT_* URLs"
    else:
        detail, fix = f"{probe.url} answered {probe.status}", "try later"
    return Check(probe.name, "FAIL", detail, fix)


def clock(kit_date: str | None) -> Check:
    if not kit_date:
        return Check("clock", "WARN", "no Date header from Kit to compare with")
    skew = clock_skew(kit_date)
    if abs(skew) > MAX_CLOCK_SKEW:
        return Check(
            "clock",
            "FAIL",
            f"{skew:+.0f} s off Kit's clock",
            "sync the system clock (NTP): token expiry depends on it",
        )
    return Check("clock", "PASS", f"{skew:+.0f} s off Kit's clock")


@click.command()
@with_appcontext
def doctor() -> None:
    """Check this deployment: secrets, redirect URI, cookies, database, Kit.

    One PASS / WARN / FAIL line per check, with the fix. WARN is fine for
    development and wrong for production (where it counts as FAIL). Exits 1
    if anything failed. Changes nothing.
    """
    results = run_checks(current_app._get_current_object())  # type: ignore[attr-defined]
    for check in results:
        click.echo(check.line())
    failed = sum(check.status == "FAIL" for check in results)
    click.echo(f"{len(results)} checks, {failed} failed")
    if failed:
        raise SystemExit(1)
