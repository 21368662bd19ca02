"""Every setting, read from the environment in one place.

`load_config` turns environment variables (plus overrides passed to the app
factory, for tests) into the Flask config mapping. The variable names are the
project's configuration contract: see `.env.example` and docs/configuration.md.

Two modes:
- **sandbox mode** (no `KIT_CLIENT_ID`): the app talks to the built-in Kit sandbox
  and generates what it needs (secret key, encryption key) so that `make run`
  works on a fresh machine with no configuration at all.
- **production** (`APP_ENV=production`, the default as soon as `KIT_CLIENT_ID`
  is set): `SECRET_KEY` and `TOKEN_ENCRYPTION_KEYS` are required and the app
  refuses to start without them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.config.listing import listing_config
from app.config.plugins import plugin_config
from app.config.values import (
    DEFAULT_DEV_ORIGIN,
    LOOPBACK_HOSTS,
    ConfigError,
    Text,
    allowed_hosts,
    app_env_of,
    cache_config,
    celery_config,
    count,
    database_url,
    default_workers,
    fernet_keys,
    instance_secret,
    mail_config,
    proxy_fix_hops,
    public_base_url,
    refuse_incomplete_production,
    require_shared_store,
)
from app.redis_store import CLIENT_OPTIONS

__all__ = [
    "DEFAULT_DEV_ORIGIN",
    "DEFAULT_SANDBOX_URL",
    "LOOPBACK_HOSTS",
    "SETTINGS",
    "ConfigError",
    "database_url",
    "default_workers",
    "load_config",
    "public_base_url",
    "require_shared_store",
]

# Where `flask kit dev` serves the Kit sandbox in sandbox mode; the sandbox's
# credentials are its own (SandboxConfig in kit_sandbox/), handed over by that
# command.
DEFAULT_SANDBOX_URL = "http://127.0.0.1:5001"

# Every environment variable the app reads. `.env.example` documents each one.
SETTINGS = (
    "APP_ENV",
    "APP_NAME",
    "SECRET_KEY",
    "DATABASE_URL",
    "KIT_CLIENT_ID",
    "KIT_CLIENT_SECRET",
    "KIT_APP_URL",
    "KIT_API_URL",
    "KIT_AUTHORIZE_URL",
    "KIT_TOKEN_URL",
    "KIT_REVOKE_URL",
    "KIT_REDIRECT_URI",
    "KIT_PLUGIN_CLIENT_ID",
    "KIT_PLUGIN_CLIENT_SECRET",
    "PUBLIC_BASE_URL",
    "KIT_APP_ID",
    "HELP_URL",
    "SUPPORT_URL",
    "SUPPORT_EMAIL",
    "PRIVACY_URL",
    "KIT_SANDBOX_URL",
    "KIT_HTTP_TIMEOUT",
    "KIT_TOKEN_TIMEOUT",
    "KIT_PENDING_PAIRS_DIR",
    "TOKEN_ENCRYPTION_KEYS",
    "TOKEN_REFRESH_LEEWAY",
    "OAUTH_ATTEMPT_TTL",
    "REDIS_URL",
    "KIT_CACHE_SECONDS",
    "KIT_PARALLEL_CALLS",
    "WEBHOOK_EVENTS_KEPT_DAYS",
    "RECONNECT_GRACE_DAYS",
    "LOG_LEVEL",
    "PROXY_FIX_HOPS",
    "ALLOWED_HOSTS",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "KIT_REQUESTS_PER_WORKER",
    "KIT_REQUESTS_PER_USER",
    "KIT_SLOT_WAIT",
    "PLUGIN_BLOCK_BUDGET",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_DEFAULT_SENDER",
)


def load_config(
    instance_path: str | Path,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the Flask config from the environment and optional overrides.

    Overrides use the same names as the environment variables (tests pass
    `{"DATABASE_URL": ..., "KIT_API_URL": ...}`); any other key (`TESTING`,
    `WTF_CSRF_ENABLED`, ...) goes to Flask's config unchanged.
    """
    text = _reader(os.environ if environ is None else environ, overrides or {})
    instance = Path(instance_path)
    sandbox = text("KIT_CLIENT_ID") is None
    app_env = app_env_of(text, sandbox)
    production = app_env == "production"
    refuse_incomplete_production(text, production)
    secret_key = text("SECRET_KEY") or instance_secret(instance)
    config: dict[str, Any] = {
        "APP_ENV": app_env,
        "APP_NAME": text("APP_NAME", "Kit App Starter"),
        "SECRET_KEY": secret_key,
        # For `flask kit doctor`: generated or derived values are development-only.
        "SECRET_KEY_FROM_ENV": bool(text("SECRET_KEY")),
        "TOKEN_ENCRYPTION_KEYS_FROM_ENV": bool(text("TOKEN_ENCRYPTION_KEYS")),
        **_database(text, instance),
        **_kit(text, sandbox, instance, secret_key),
        **_processes(text),
        **_requests(production),
        **listing_config(text, production),
        **plugin_config(text, production, instance),
    }
    config["ALLOWED_HOSTS"] = allowed_hosts(text("ALLOWED_HOSTS"), config)
    config.update(_kit_slots(text, config["GUNICORN_THREADS"]))
    config.update(cache_config(config))
    config.update(mail_config(text, production, config["APP_NAME"]))
    config["CELERY"] = celery_config(config["REDIS_URL"])
    config.update(_rate_limits(config["REDIS_URL"]))
    # Everything else in the overrides (TESTING, WTF_CSRF_ENABLED, ...) as given.
    config.update({k: v for k, v in (overrides or {}).items() if k not in SETTINGS})
    return config


def _reader(environ: Mapping[str, str], overrides: Mapping[str, Any]) -> Text:
    raw: dict[str, Any] = {k: environ[k] for k in SETTINGS if environ.get(k)}
    raw.update({k: v for k, v in overrides.items() if v is not None})

    def text(name: str, default: str | None = None) -> str | None:
        value = raw.get(name)
        return str(value).strip() if value not in (None, "") else default

    return text


def _database(text: Text, instance: Path) -> dict[str, Any]:
    url = database_url(text("DATABASE_URL") or f"sqlite:///{instance / 'app.db'}")
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # SQLite's busy timeout: how long a writer waits for another's write
        # lock. Writes are short (no transaction spans a call to Kit), so a wait
        # this long means trouble: it gives up, and the page is a 503.
        options["connect_args"] = {"timeout": 15}
    return {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}


def _kit(text: Text, sandbox: bool, instance: Path, secret_key: str) -> dict[str, Any]:
    """Where Kit is, the app's credentials at Kit, and how its answers and
    tokens are handled."""
    sandbox_url = (text("KIT_SANDBOX_URL") or DEFAULT_SANDBOX_URL).rstrip("/")
    app_url = text("KIT_APP_URL") or (sandbox_url if sandbox else "https://app.kit.com")
    api_url = text("KIT_API_URL") or (sandbox_url if sandbox else "https://api.kit.com")
    api_url = api_url.rstrip("/")
    return {
        "KIT_SANDBOX": sandbox,
        "KIT_SANDBOX_URL": sandbox_url,
        # Sandbox mode: `flask kit dev` fills both in when it starts the sandbox.
        "KIT_CLIENT_ID": text("KIT_CLIENT_ID"),
        "KIT_CLIENT_SECRET": None if sandbox else text("KIT_CLIENT_SECRET"),
        "KIT_APP_URL": app_url.rstrip("/"),
        "KIT_API_URL": api_url,
        "KIT_AUTHORIZE_URL": text("KIT_AUTHORIZE_URL", f"{api_url}/v4/oauth/authorize"),
        "KIT_TOKEN_URL": text("KIT_TOKEN_URL", f"{api_url}/v4/oauth/token"),
        "KIT_REVOKE_URL": text("KIT_REVOKE_URL", f"{api_url}/v4/oauth/revoke"),
        "KIT_REDIRECT_URI": text("KIT_REDIRECT_URI"),
        # Unset: derived when used (see public_base_url), so that `flask kit
        # dev` setting KIT_REDIRECT_URI for its port moves it too.
        "PUBLIC_BASE_URL": (text("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        "KIT_HTTP_TIMEOUT": float(text("KIT_HTTP_TIMEOUT", "10") or 10),
        # Kit's token endpoint gets longer than an API call: a refresh it
        # answers late has still rotated the pair (app/kit/tokens.py).
        "KIT_TOKEN_TIMEOUT": float(text("KIT_TOKEN_TIMEOUT", "30") or 30),
        # Where a pair Kit issued waits, encrypted, if the database refused it
        # (app/kit/spool.py): a durable disk every process of this host shares.
        "KIT_PENDING_PAIRS_DIR": text("KIT_PENDING_PAIRS_DIR")
        or str(instance / "pending_pairs"),
        "TOKEN_ENCRYPTION_KEYS": fernet_keys(text("TOKEN_ENCRYPTION_KEYS"), secret_key),
        "TOKEN_REFRESH_LEEWAY": int(text("TOKEN_REFRESH_LEEWAY", "300") or 300),
        "OAUTH_ATTEMPT_TTL": int(text("OAUTH_ATTEMPT_TTL", "600") or 600),
        "REDIS_URL": text("REDIS_URL"),
        # Kit data is cached per connection for this long (0 turns caching off).
        "KIT_CACHE_SECONDS": int(text("KIT_CACHE_SECONDS", "60") or 60),
        # How many Kit calls one page may have in flight at once.
        "KIT_PARALLEL_CALLS": int(text("KIT_PARALLEL_CALLS", "16") or 16),
        # Kit's webhook events are kept this long (by when they arrived).
        "WEBHOOK_EVENTS_KEPT_DAYS": count(
            "WEBHOOK_EVENTS_KEPT_DAYS", text("WEBHOOK_EVENTS_KEPT_DAYS"), 90
        ),
        # A connection that lost its access (uninstalled in Kit) keeps its
        # Kit data this long, for a reconnect; then a daily job deletes it.
        "RECONNECT_GRACE_DAYS": count(
            "RECONNECT_GRACE_DAYS", text("RECONNECT_GRACE_DAYS"), 30
        ),
    }


def _processes(text: Text) -> dict[str, Any]:
    """Logging, proxies, and gunicorn's processes and threads."""
    return {
        "LOG_LEVEL": (text("LOG_LEVEL") or "INFO").upper(),
        # Proxies in front of the app whose X-Forwarded-* headers are believed.
        "PROXY_FIX_HOPS": proxy_fix_hops(text("PROXY_FIX_HOPS")),
        # gunicorn's processes and threads (gunicorn.conf.py reads the same).
        "WEB_CONCURRENCY": count(
            "WEB_CONCURRENCY", text("WEB_CONCURRENCY"), default_workers()
        ),
        "GUNICORN_THREADS": count("GUNICORN_THREADS", text("GUNICORN_THREADS"), 4),
    }


def _requests(production: bool) -> dict[str, Any]:
    """Request bodies and cookies."""
    return {
        # Request bodies: the app's forms are small. A route that needs more says
        # so (app.edge.accepts_body); FLASK_MAX_CONTENT_LENGTH changes the default.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        "MAX_FORM_PARTS": 100,
        # Lax lets the session cookie ride along on the top-level GET back from
        # Kit's consent screen; Strict would lose it and every state check fails.
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }


def _kit_slots(text: Text, threads: int) -> dict[str, Any]:
    return {
        # Requests waiting on Kit, per process: one thread is always left for
        # the pages that need no Kit call (sign-in, health, accounts).
        "KIT_REQUESTS_PER_WORKER": count(
            "KIT_REQUESTS_PER_WORKER",
            text("KIT_REQUESTS_PER_WORKER"),
            max(1, threads - 1),
        ),
        "KIT_REQUESTS_PER_USER": count(
            "KIT_REQUESTS_PER_USER", text("KIT_REQUESTS_PER_USER"), 2
        ),
        # Seconds a request waits for one of those slots while they turn over
        # (app/kit_capacity.py); 0: answer 503 at once.
        "KIT_SLOT_WAIT": float(text("KIT_SLOT_WAIT", "5") or 0),
        # Seconds a content block waits on Kit before it answers from the
        # copy it kept (app/plugins/kept.py).
        "PLUGIN_BLOCK_BUDGET": float(text("PLUGIN_BLOCK_BUDGET", "1.5") or 1.5),
    }


def _rate_limits(redis_url: str | None) -> dict[str, Any]:
    # Rate limits (Flask-Limiter): in-process by default, shared through Redis
    # when REDIS_URL is set, so that every worker counts the same requests.
    # Redis down or frozen: count in this process's memory until it answers
    # again (a short timeout, so a frozen Redis is found out quickly).
    config: dict[str, Any] = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
    }
    if redis_url:
        config["RATELIMIT_STORAGE_OPTIONS"] = dict(CLIENT_OPTIONS)
    return config
