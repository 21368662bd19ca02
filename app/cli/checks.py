"""The configuration checks of `flask kit doctor` (app/cli/doctor.py): the
secrets, the redirect URI and public origin, cookies, the shared store and
mail, each read from the app's config. One `Check` each: PASS, WARN (fine for
development, not for production) or FAIL, with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, url_for

from app.config import public_base_url


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # PASS | WARN | FAIL (| SKIP: `doctor --review`, not run)
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" → {self.fix}" if self.fix and self.status in ("WARN", "FAIL") else ""
        return f"{self.status:<4} {self.name}: {self.detail}{fix}"


def _production(app: Flask) -> bool:
    return app.config["APP_ENV"] == "production"


def weak(app: Flask, name: str, detail: str, fix: str) -> Check:
    """A shortcut that is fine in development and wrong in production."""
    return Check(name, "FAIL" if _production(app) else "WARN", detail, fix)


def secret_key(app: Flask) -> Check:
    key = app.config["SECRET_KEY"] or ""
    if len(key) < 32:
        return weak(
            app,
            "secret key",
            f"SECRET_KEY is only {len(key)} characters",
            "use 32+ random characters: "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    if not app.config.get("SECRET_KEY_FROM_ENV"):
        return weak(
            app,
            "secret key",
            "generated and kept in instance/secret_key",
            "set SECRET_KEY in the environment",
        )
    return Check("secret key", "PASS", "set from the environment")


def encryption_keys(app: Flask) -> Check:
    keys = app.config["TOKEN_ENCRYPTION_KEYS"]
    if not app.config.get("TOKEN_ENCRYPTION_KEYS_FROM_ENV"):
        return weak(
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
        return weak(
            app,
            "redirect URI",
            "taken from each request's host",
            "set KIT_REDIRECT_URI to exactly the Redirect URI registered at Kit",
        )
    if parts.scheme != "https":
        return weak(
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
        return weak(app, "public URL", f"{base} is not https", fix)
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
    return weak(
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
    return weak(
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
        return weak(app, "mail", f"no MAIL_SERVER: account mail is {where}", fix)
    server = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    if config["MAIL_USERNAME"] and not (
        config["MAIL_USE_TLS"] or config["MAIL_USE_SSL"]
    ):
        return weak(
            app,
            "mail",
            f"{server} with a password but no encryption",
            "set MAIL_USE_TLS=true (port 587) or MAIL_USE_SSL=true (port 465)",
        )
    if config["MAIL_DEFAULT_SENDER"].endswith("@localhost>"):
        return weak(
            app, "mail", f"{server}, sender {config['MAIL_DEFAULT_SENDER']}", fix
        )
    return Check("mail", "PASS", f"SMTP {server} as {config['MAIL_DEFAULT_SENDER']}")
