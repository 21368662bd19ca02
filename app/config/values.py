"""How each setting's value is read and checked, and the settings derived
from others (cache, mail, Celery, allowed hosts, the public origin).
`load_config` (app/config/__init__.py) puts them together.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from cryptography.fernet import Fernet

from app.redis_store import CLIENT_OPTIONS, SOCKET_TIMEOUT


class ConfigError(click.ClickException, RuntimeError):
    """The configuration cannot work; the message says which variable to set.

    A ClickException, so a `flask` command that cannot build the app prints
    "Error: <message>" and exits 1 with no traceback; a RuntimeError, which
    gunicorn prints the same way (gunicorn.conf.py's on_starting).
    """


# A setting's text from the environment or the overrides, stripped; the
# default when it is unset or empty.
Text = Callable[..., str | None]


def app_env_of(text: Text, sandbox: bool) -> str:
    app_env = (text("APP_ENV") or ("development" if sandbox else "production")).lower()
    if app_env not in ("development", "production"):
        raise ConfigError("APP_ENV must be 'development' or 'production'.")
    return app_env


def refuse_incomplete_production(text: Text, production: bool) -> None:
    """Production starts only with its secrets and its public origin."""
    if not production:
        return
    missing = [
        name for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS") if not text(name)
    ]
    if missing:
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
    if not (text("PUBLIC_BASE_URL") or text("KIT_REDIRECT_URI")):
        # Links in mail are built on this origin (public_base_url); without
        # it they would take the Host of whoever asked for the mail.
        raise ConfigError(
            "Refusing to start in production without PUBLIC_BASE_URL (or "
            "KIT_REDIRECT_URI, whose origin it defaults to): links in mail, "
            "webhook and plugin URLs are built on it, never on a request's "
            "Host. Set PUBLIC_BASE_URL=https://<your host>."
        )


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


def cache_config(config: dict[str, Any]) -> dict[str, Any]:
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


def mail_config(text: Any, production: bool, app_name: str) -> dict[str, Any]:
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


def celery_config(redis_url: str | None) -> dict[str, Any]:
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


def proxy_fix_hops(value: str | None) -> int:
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


def count(name: str, value: str | None, default: int) -> int:
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


def allowed_hosts(value: str | None, config: dict[str, Any]) -> list[str] | None:
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


def instance_secret(instance: Path) -> str:
    """A development secret key, generated once and kept in the instance folder."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def fernet_keys(value: str | None, secret_key: str) -> list[str]:
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
