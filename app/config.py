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

import base64
import hashlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from cryptography.fernet import Fernet

from app.redis_store import CLIENT_OPTIONS, SOCKET_TIMEOUT

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
    "PUBLIC_BASE_URL",
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
    "LOG_LEVEL",
    "PROXY_FIX_HOPS",
    "ALLOWED_HOSTS",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "KIT_REQUESTS_PER_WORKER",
    "KIT_REQUESTS_PER_USER",
    "KIT_SLOT_WAIT",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_DEFAULT_SENDER",
)


class ConfigError(click.ClickException, RuntimeError):
    """The configuration cannot work; the message says which variable to set.

    A ClickException, so a `flask` command that cannot build the app prints
    "Error: <message>" and exits 1 with no traceback; a RuntimeError, which
    gunicorn prints the same way (gunicorn.conf.py's on_starting).
    """


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
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {k: environ[k] for k in SETTINGS if environ.get(k)}
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    instance = Path(instance_path)

    def text(name: str, default: str | None = None) -> str | None:
        value = raw.get(name)
        return str(value).strip() if value not in (None, "") else default

    client_id = text("KIT_CLIENT_ID")
    sandbox = client_id is None
    app_env = (text("APP_ENV") or ("development" if sandbox else "production")).lower()
    if app_env not in ("development", "production"):
        raise ConfigError("APP_ENV must be 'development' or 'production'.")
    production = app_env == "production"

    missing = [
        name for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS") if not text(name)
    ]
    if production and missing:
        raise ConfigError(
            "Refusing to start in production without "
            + " and ".join(missing)
            + ". Set them in the environment (see .env.example); generate values with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` and "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
            + (
                ""
                if text("APP_ENV")
                else " (APP_ENV is production because KIT_CLIENT_ID is set: "
                "set APP_ENV=development to try your Kit app on this machine.)"
            )
        )
    if production and not (text("PUBLIC_BASE_URL") or text("KIT_REDIRECT_URI")):
        # Links in mail are built on this origin (public_base_url); without
        # it they would take the Host of whoever asked for the mail.
        raise ConfigError(
            "Refusing to start in production without PUBLIC_BASE_URL (or "
            "KIT_REDIRECT_URI, whose origin it defaults to): links in mail, "
            "webhook and plugin URLs are built on it, never on a request's "
            "Host. Set PUBLIC_BASE_URL=https://<your host>."
        )

    secret_key = text("SECRET_KEY") or _instance_secret(instance)
    sandbox_url = (text("KIT_SANDBOX_URL") or DEFAULT_SANDBOX_URL).rstrip("/")
    app_url = text("KIT_APP_URL") or (sandbox_url if sandbox else "https://app.kit.com")
    api_url = text("KIT_API_URL") or (sandbox_url if sandbox else "https://api.kit.com")
    api_url = api_url.rstrip("/")

    config: dict[str, Any] = {
        "APP_ENV": app_env,
        "APP_NAME": text("APP_NAME", "Kit App Starter"),
        "SECRET_KEY": secret_key,
        # For `flask kit doctor`: generated or derived values are development-only.
        "SECRET_KEY_FROM_ENV": bool(text("SECRET_KEY")),
        "TOKEN_ENCRYPTION_KEYS_FROM_ENV": bool(text("TOKEN_ENCRYPTION_KEYS")),
        "SQLALCHEMY_DATABASE_URI": database_url(
            text("DATABASE_URL") or f"sqlite:///{instance / 'app.db'}"
        ),
        "KIT_SANDBOX": sandbox,
        "KIT_SANDBOX_URL": sandbox_url,
        # Sandbox mode: `flask kit dev` fills both in when it starts the sandbox.
        "KIT_CLIENT_ID": client_id,
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
        "TOKEN_ENCRYPTION_KEYS": _fernet_keys(
            text("TOKEN_ENCRYPTION_KEYS"), secret_key
        ),
        "TOKEN_REFRESH_LEEWAY": int(text("TOKEN_REFRESH_LEEWAY", "300") or 300),
        "OAUTH_ATTEMPT_TTL": int(text("OAUTH_ATTEMPT_TTL", "600") or 600),
        "REDIS_URL": text("REDIS_URL"),
        # Kit data is cached per connection for this long (0 turns caching off).
        "KIT_CACHE_SECONDS": int(text("KIT_CACHE_SECONDS", "60") or 60),
        # How many Kit calls one page may have in flight at once.
        "KIT_PARALLEL_CALLS": int(text("KIT_PARALLEL_CALLS", "16") or 16),
        # Kit's webhook events are kept this long (by when they arrived).
        "WEBHOOK_EVENTS_KEPT_DAYS": _count(
            "WEBHOOK_EVENTS_KEPT_DAYS", text("WEBHOOK_EVENTS_KEPT_DAYS"), 90
        ),
        "LOG_LEVEL": (text("LOG_LEVEL") or "INFO").upper(),
        # Proxies in front of the app whose X-Forwarded-* headers are believed.
        "PROXY_FIX_HOPS": _proxy_fix_hops(text("PROXY_FIX_HOPS")),
        # gunicorn's processes and threads (gunicorn.conf.py reads the same).
        "WEB_CONCURRENCY": _count(
            "WEB_CONCURRENCY", text("WEB_CONCURRENCY"), default_workers()
        ),
        "GUNICORN_THREADS": _count("GUNICORN_THREADS", text("GUNICORN_THREADS"), 4),
        # Request bodies: the app's forms are small. A route that needs more says
        # so (app.edge.accepts_body); FLASK_MAX_CONTENT_LENGTH changes the default.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        "MAX_FORM_PARTS": 100,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Lax lets the session cookie ride along on the top-level GET back from
        # Kit's consent screen; Strict would lose it and every state check fails.
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite's busy timeout: how long a writer waits for another's write
        # lock. Writes are short (no transaction spans a call to Kit), so a wait
        # this long means trouble: it gives up, and the page is a 503.
        config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] = {"timeout": 15}
    config["ALLOWED_HOSTS"] = _allowed_hosts(text("ALLOWED_HOSTS"), config)
    # Requests waiting on Kit, per process: one thread is always left for
    # the pages that need no Kit call (sign-in, health, accounts).
    config["KIT_REQUESTS_PER_WORKER"] = _count(
        "KIT_REQUESTS_PER_WORKER",
        text("KIT_REQUESTS_PER_WORKER"),
        max(1, config["GUNICORN_THREADS"] - 1),
    )
    config["KIT_REQUESTS_PER_USER"] = _count(
        "KIT_REQUESTS_PER_USER", text("KIT_REQUESTS_PER_USER"), 2
    )
    # Seconds a request waits for one of those slots while they turn over
    # (app/kit_capacity.py); 0: answer 503 at once.
    config["KIT_SLOT_WAIT"] = float(text("KIT_SLOT_WAIT", "5") or 0)
    config.update(_cache_config(config))
    config.update(_mail_config(text, production, config["APP_NAME"]))
    config["CELERY"] = _celery_config(config["REDIS_URL"])
    # Rate limits (Flask-Limiter): in-process by default, shared through Redis
    # when REDIS_URL is set, so that every worker counts the same requests.
    config["RATELIMIT_ENABLED"] = True
    config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"] or "memory://"
    # Redis down or frozen: count in this process's memory until it answers
    # again (a short timeout, so a frozen Redis is found out quickly).
    config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    config["RATELIMIT_SWALLOW_ERRORS"] = True
    if config["REDIS_URL"]:
        config["RATELIMIT_STORAGE_OPTIONS"] = dict(CLIENT_OPTIONS)
    # Everything else in the overrides (TESTING, WTF_CSRF_ENABLED, ...) as given.
    config.update({k: v for k, v in (overrides or {}).items() if k not in SETTINGS})
    return config


DEFAULT_DEV_ORIGIN = "http://127.0.0.1:5000"  # where `flask kit dev` serves the app


def public_base_url(config: Mapping[str, Any]) -> str | None:
    """The app's public origin, for every URL built for outside the browser's
    own navigation (links in mail, webhook URLs), never from a request's Host:
    PUBLIC_BASE_URL, else the origin of KIT_REDIRECT_URI, else in development
    where `flask kit dev` serves the app. None only in production with
    neither set, which `load_config` refuses (and `flask kit doctor` names)."""
    if config.get("PUBLIC_BASE_URL"):
        return str(config["PUBLIC_BASE_URL"]).rstrip("/")
    parts = urlsplit(config.get("KIT_REDIRECT_URI") or "")
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    if config.get("APP_ENV") != "production":
        return DEFAULT_DEV_ORIGIN
    return None


def _cache_config(config: dict[str, Any]) -> dict[str, Any]:
    """Flask-Caching: in-process by default, Redis when REDIS_URL is set."""
    seconds = config["KIT_CACHE_SECONDS"]
    if seconds <= 0:
        return {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    if config["REDIS_URL"]:
        return {
            # Its errors are misses: a Redis outage costs speed, not pages.
            "CACHE_TYPE": "app.redis_store.ForgivingRedisCache",
            "CACHE_REDIS_URL": config["REDIS_URL"],
            "CACHE_OPTIONS": dict(CLIENT_OPTIONS),
            "CACHE_KEY_PREFIX": "kit-app-starter:",
            "CACHE_DEFAULT_TIMEOUT": seconds,
        }
    return {
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": seconds,
        "CACHE_THRESHOLD": 5000,
    }


def _mail_config(text: Any, production: bool, app_name: str) -> dict[str, Any]:
    """Flask-Mailman: SMTP to MAIL_SERVER; with none, development prints each
    mail to the console (`flask kit dev` points it at the sandbox's outbox) and
    production tries a local mail server on port 25 (`flask kit doctor` fails).
    """
    server = text("MAIL_SERVER")
    use_tls, use_ssl = _flag(text("MAIL_USE_TLS")), _flag(text("MAIL_USE_SSL"))
    if use_tls and use_ssl:
        raise ConfigError(
            "Set MAIL_USE_TLS (STARTTLS, usually port 587) or MAIL_USE_SSL "
            "(usually port 465), not both."
        )
    try:
        port = int(text("MAIL_PORT", "25") or 25)
    except ValueError:
        raise ConfigError("MAIL_PORT must be a port number, such as 587.") from None
    return {
        "MAIL_BACKEND": "smtp" if server or production else "console",
        "MAIL_SERVER": server or "localhost",
        "MAIL_PORT": port,
        "MAIL_USERNAME": text("MAIL_USERNAME"),
        "MAIL_PASSWORD": text("MAIL_PASSWORD"),
        "MAIL_USE_TLS": use_tls,
        "MAIL_USE_SSL": use_ssl,
        "MAIL_DEFAULT_SENDER": text(
            "MAIL_DEFAULT_SENDER", f"{app_name} <no-reply@localhost>"
        ),
        "MAIL_SERVER_FROM_ENV": bool(server),  # for `flask kit doctor`
        # A slow mail server holds up the request that sends: bound the wait.
        "MAIL_TIMEOUT": 10,
        # How long the links in account mail work, in seconds.
        "PASSWORD_RESET_SECONDS": 3600,
        "EMAIL_VERIFY_SECONDS": 86400,
    }


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def _celery_config(redis_url: str | None) -> dict[str, Any]:
    """Celery: Redis as broker and result backend when REDIS_URL is set, else
    every task runs in-process as it is called (eager)."""
    return {
        "broker_url": redis_url or "memory://localhost/",
        "result_backend": redis_url,
        "task_always_eager": not redis_url,
        "task_eager_propagates": True,
        "task_ignore_result": True,  # tasks that report back say so
        # A job outlives the worker that ran it: acknowledged only once done,
        # handed to another worker if its process dies, one at a time each.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # A request that queues a job after its work committed must not wait
        # on a Redis that is down: one short try (app.jobs.enqueue logs a
        # failure; the periodic sweeps find the work in the database).
        "task_publish_retry": False,
        "broker_connection_timeout": SOCKET_TIMEOUT,
        "broker_transport_options": {
            "socket_timeout": SOCKET_TIMEOUT,
            "socket_connect_timeout": SOCKET_TIMEOUT,
            "max_retries": 0,
        },
    }


def database_url(url: str) -> str:
    """Point plain PostgreSQL URLs (as hosting providers hand them out) at psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _proxy_fix_hops(value: str | None) -> int:
    """`PROXY_FIX_HOPS`: 0 (off) or the number of proxies that set X-Forwarded-*."""
    try:
        hops = int(value or 0)
    except ValueError:
        hops = -1
    if hops < 0:
        raise ConfigError(
            "PROXY_FIX_HOPS must be 0 (no proxy) or the number of proxies in front "
            "of the app, such as 1 for one TLS proxy."
        )
    return hops


def default_workers() -> int:
    """gunicorn's worker processes when WEB_CONCURRENCY is unset: 2 x CPUs + 1,
    counting the CPUs this process may run on (a container's cpuset)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return 2 * cpus + 1


def _count(name: str, value: str | None, default: int) -> int:
    """A whole number of 1 or more from the environment, or `default`."""
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"{name} must be a whole number of 1 or more.")
    return number


LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def _allowed_hosts(value: str | None, config: dict[str, Any]) -> list[str] | None:
    """`ALLOWED_HOSTS`: the host names this app answers to, as in Flask's
    TRUSTED_HOSTS (`.example.com` takes every subdomain; `*` any host).
    Enforced by app.edge on incoming requests only: Flask's own setting would
    also refuse the request contexts the app makes itself (`flask kit doctor`).

    Default: the hosts of KIT_REDIRECT_URI and PUBLIC_BASE_URL, plus this
    machine's loopback names in development. None (any host) in production
    when neither URL is set: `flask kit doctor` asks for KIT_REDIRECT_URI.
    """
    if value is not None:
        hosts = [h.strip().lower() for h in value.split(",") if h.strip()]
        return None if "*" in hosts else hosts
    derived = []
    for name in ("KIT_REDIRECT_URI", "PUBLIC_BASE_URL"):
        host = urlsplit(config.get(name) or "").hostname
        if host:
            derived.append(host)
    if config["APP_ENV"] != "production":
        derived.extend(LOOPBACK_HOSTS)
    return list(dict.fromkeys(derived)) or None


def require_shared_store(config: Mapping[str, Any], workers: int) -> None:
    """Several worker processes in production need REDIS_URL.

    Without it each process keeps its own rate limit counts and its own cache:
    the sign-in limit lets through `workers` times its attempts, and a write
    seen by one worker leaves the others' cached pages stale.
    """
    if config["APP_ENV"] == "production" and workers > 1 and not config["REDIS_URL"]:
        raise ConfigError(
            f"Refusing to start {workers} workers in production without "
            "REDIS_URL: each worker would keep its own rate limit counts (the "
            f"sign-in limit would let through {workers} times its attempts) and "
            "its own cache (pages stale after a write another worker saw). Set "
            "REDIS_URL=redis://<host>:6379/0, or run one worker with "
            "WEB_CONCURRENCY=1."
        )


def _instance_secret(instance: Path) -> str:
    """A development secret key, generated once and kept in the instance folder."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _fernet_keys(value: str | None, secret_key: str) -> list[str]:
    """Parse `TOKEN_ENCRYPTION_KEYS` (newest first), or derive a development key."""
    if not value:
        digest = hashlib.sha256(b"kit-token-encryption:" + secret_key.encode()).digest()
        return [base64.urlsafe_b64encode(digest).decode()]
    keys = [k.strip() for k in value.split(",") if k.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"TOKEN_ENCRYPTION_KEYS: key {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
    return keys
