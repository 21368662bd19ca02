"""What the benchmarks share: their command line, an app wired to the sandbox
(in this process, or under gunicorn as in production), a creator signed up and
installed through the app's pages, a real grant, percentiles, and the app's
jobs in a real `celery ... worker` with a real redis-server.

Not a benchmark itself; imported by the others (`python -m bench.NAME`).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask_migrate
import requests
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.kit import oauth
from kit_sandbox import SandboxServer, testing
from tests.servers import free_port, redis_server, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EMAIL = "bench@example.com"


def argument_parser(
    module: str,
    doc: str | None,
    *,
    latency_ms: int | None = None,
    workers: int | None = None,
    concurrency: int | None = None,
    database_url: bool = False,
) -> argparse.ArgumentParser:
    """The command line of `python -m <module>`, its docstring as the help, and
    the options that several benchmarks take: --latency-ms, --workers and
    --concurrency where given a default, --database-url where asked for."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    numbers = (
        ("--latency-ms", latency_ms, "added by the sandbox to each Kit call"),
        ("--workers", workers, "gunicorn's worker processes, 4 threads each"),
        ("--concurrency", concurrency, "the Celery worker's prefork children"),
    )
    for option, default, meaning in numbers:
        if default is not None:
            parser.add_argument(
                option,
                type=int,
                default=default,
                help=f"{meaning} (default: %(default)s)",
            )
    if database_url:
        parser.add_argument(
            "--database-url", help="the app's database (default: a new SQLite file)"
        )
    return parser


def percentile(values: list[float], q: float) -> float:
    """The value at rank `q` (0 to 1) of the sorted values, the highest at 1."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the app in this process --------------------------------------------------------


def bench_settings(
    kit: SandboxServer, database_url: str, **extra: Any
) -> dict[str, Any]:
    """The settings of an app that is a client of this sandbox, on
    `database_url`, with a new encryption key; `extra` added or replaced."""
    return {
        "SECRET_KEY": "bench",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "APP_ENV": "development",
        "KIT_CLIENT_ID": kit.config.client_id,
        "KIT_CLIENT_SECRET": kit.config.client_secret,
        "KIT_APP_URL": kit.url,
        "KIT_API_URL": kit.url,
        # Account mail (the sign-up confirmation) goes to the sandbox's outbox.
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": kit.smtp_port,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def bench_app(kit: SandboxServer, database_url: str, **extra: Any) -> Flask:
    """The app as a client of this sandbox, on `database_url` (not migrated)."""
    return create_app(bench_settings(kit, database_url, **extra))


def migrate() -> None:
    """`flask db upgrade` in the app context, without Alembic's INFO lines."""
    logging.disable(logging.INFO)
    try:
        flask_migrate.upgrade()
    finally:
        logging.disable(logging.NOTSET)


def sign_up_and_consent(client: FlaskClient, email: str = EMAIL) -> str:
    """Sign up through the app's pages in Flask's test client (the app built
    with WTF_CSRF_ENABLED=False) and consent on Kit's page through a
    KitBrowser, as the sandbox's first demo creator. Returns the callback URL
    Kit sends the browser back to, not visited yet."""
    password = secrets.token_urlsafe(16)
    response = client.post(
        "/signup", data={"email": email, "password": password, "confirm": password}
    )
    assert response.status_code == 302, response.text
    link = mailed_link(client.application.config["KIT_API_URL"], email)
    token = parse_qs(urlsplit(link).query)["token"][0]
    confirmed = client.post("/verify-email", data={"token": token})
    assert confirmed.status_code == 302, confirmed.text
    to_kit = client.get("/kit/oauth")
    assert to_kit.status_code == 302, to_kit.text
    kit_browser = testing.KitBrowser()
    try:
        return kit_browser.consent(to_kit.location)
    finally:
        kit_browser.close()


def mailed_link(kit_url: str, email: str, path: str = "/verify-email") -> str:
    """The newest link to `path` mailed to `email`: the app sends its mail to
    the sandbox's outbox, read over HTTP."""
    answer = requests.get(
        f"{kit_url}/_sandbox/outbox.json", params={"to": email}, timeout=10
    )
    for mail in reversed(answer.json()["messages"]):
        for link in mail["links"]:
            if urlsplit(link).path == path:
                return str(link)
    raise SystemExit(f"no mail to {email} with a link to {path}")


def sign_up_and_install(client: FlaskClient) -> None:
    """Sign up and install through the app's pages (`sign_up_and_consent`,
    then the callback)."""
    back = client.get(sign_up_and_consent(client))
    assert back.status_code == 302, back.text


def kit_calls(kit: SandboxServer) -> int:
    """Every request the sandbox has received on its API and token endpoints."""
    stats = kit.state.stats()
    return stats["api_requests"] + stats["token_requests"]


def real_grant(kit: SandboxServer) -> oauth.TokenSet:
    """A token pair from a real code exchange at the sandbox, as the app stores it."""
    body = testing.real_grant(kit)
    return oauth.token_set_from_response(body, received_at=body["received_at"])


# --- the app under gunicorn ---------------------------------------------------------


@contextmanager
def gunicorn(
    kit: SandboxServer,
    database_url: str,
    workers: int,
    logs: Path,
    access_log_format: str | None = None,
    app_root: Path = ROOT,
    **env: str,
) -> Iterator[str]:
    """`_gunicorn`, with a redis-server of its own as REDIS_URL unless `env`
    names one: production refuses several workers without a shared store."""
    if "REDIS_URL" in env:
        with _gunicorn(
            kit, database_url, workers, logs, access_log_format, app_root, **env
        ) as app_url:
            yield app_url
        return
    with (
        redis_server() as redis_url,
        _gunicorn(
            kit,
            database_url,
            workers,
            logs,
            access_log_format,
            app_root,
            REDIS_URL=redis_url,
            **env,
        ) as app_url,
    ):
        yield app_url


@contextmanager
def _gunicorn(
    kit: SandboxServer,
    database_url: str,
    workers: int,
    logs: Path,
    access_log_format: str | None = None,
    app_root: Path = ROOT,
    **env: str,
) -> Iterator[str]:
    """The app as in production, a client of `kit`: gunicorn with
    gunicorn.conf.py (`workers` workers of 4 threads) on a free loopback port,
    its database migrated first, `env` added to its environment. Yields the
    app's URL once /healthz answers; stops the server on the way out.

    The sandbox is told the app's redirect URI. gunicorn's output (its error
    log and the app's WARNING and above) goes to `logs`/gunicorn.log, whose
    tail is printed to stderr if the block fails. Requests are logged only
    with `access_log_format`, to `logs`/access.log. `app_root`: the checkout
    whose app/ gunicorn serves (another one to measure an earlier commit with
    this bench and sandbox)."""
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    environment = production_env(kit, database_url, app_url, **env)
    upgrade = subprocess.run(  # noqa: S603
        [str(BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=app_root,
        env=environment,
        capture_output=True,
        text=True,
    )
    if upgrade.returncode:
        raise SystemExit(f"flask db upgrade failed:\n{upgrade.stderr[-3000:]}")
    access_log = ["--access-logfile", "/dev/null"]
    if access_log_format is not None:
        access_log = ["--access-logfile", str(logs / "access.log")]
        access_log += ["--access-logformat", access_log_format]
    output = logs / "gunicorn.log"
    with output.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603
            [
                str(BIN / "gunicorn"),
                *("-c", "gunicorn.conf.py", "--workers", str(workers)),
                *("--bind", f"127.0.0.1:{port}", *access_log, "--error-logfile", "-"),
                "app:create_app()",
            ],
            cwd=app_root,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"{app_url}/healthz", status=200)
        yield app_url
    except BaseException:
        print(output.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)


def production_env(
    kit: SandboxServer, database_url: str, app_url: str, **env: str
) -> dict[str, str]:
    """The environment of the app served at `app_url` as in production, a
    client of `kit` (told the app's redirect URI), `env` added or replacing."""
    kit.config.redirect_uris = [f"{app_url}/kit/oauth/callback"]
    kit.config.authorization_url = f"{app_url}/kit/oauth"
    environment = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY="bench-" + "x" * 32,
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=database_url,
        KIT_CLIENT_ID=kit.config.client_id,
        KIT_CLIENT_SECRET=kit.config.client_secret or "",
        KIT_APP_URL=kit.url,
        KIT_API_URL=kit.url,
        KIT_REDIRECT_URI=f"{app_url}/kit/oauth/callback",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(kit.smtp_port),
        FLASK_SESSION_COOKIE_SECURE="false",
        FLASK_RATELIMIT_ENABLED="false",  # one client address drives everything
        LOG_LEVEL="WARNING",
    )
    environment.update(env)  # `env` may also replace the settings above
    return environment


def install_creator(app_url: str, kit: SandboxServer) -> requests.Session:
    """Sign up (confirmed through the link `kit`'s outbox received) and
    install through the pages of the app at `app_url`, over HTTP as a browser
    would; returns the signed-in browser."""
    browser = requests.Session()
    page = browser.get(f"{app_url}/signup", timeout=10)
    [signup] = [f for f in testing.forms(page.text, page.url) if "confirm" in f.fields]
    password = secrets.token_urlsafe(16)
    data = dict(signup.fields, email=EMAIL, password=password, confirm=password)
    assert browser.post(signup.action, data=data, timeout=10).ok
    page = browser.get(mailed_link(kit.url, EMAIL), timeout=10)
    [confirm] = [f for f in testing.forms(page.text, page.url) if "token" in f.fields]
    assert browser.post(confirm.action, data=confirm.fields, timeout=10).ok
    consent = browser.get(f"{app_url}/kit/oauth", timeout=10)
    form, button = testing.form_with_button(consent.text, consent.url, "allow")
    back = browser.post(
        form.action, data=dict(form.fields, **{button: "allow"}), timeout=30
    )
    assert back.url.startswith(f"{app_url}/dashboard"), back.url
    return browser


# --- the app's jobs in a Celery worker ----------------------------------------------


@contextmanager
def jobs_app(
    kit: SandboxServer,
    database_url: str,
    concurrency: int,
    logs: Path,
    **extra: Any,
) -> Iterator[Flask]:
    """The app in this process with Redis as its broker, result backend and
    cache (a redis-server of its own), and a `celery -A app.jobs.worker
    worker` with `concurrency` prefork children, given the same settings in
    its environment (the same encryption key: it reads the tokens this
    process stores). Yields the app once the worker answers a ping; stops the
    worker and redis-server on the way out.

    The app's Celery is made the process's current one, where a shared task's
    `delay()` goes. The worker's output goes to `logs`/celery.log, whose tail is
    printed to stderr if the block fails."""
    with redis_server() as redis_url:
        settings = bench_settings(kit, database_url, REDIS_URL=redis_url, **extra)
        app = create_app(settings)
        celery = app.extensions["celery"]
        celery.set_current()
        name = f"bench-{uuid.uuid4().hex[:8]}@localhost"
        output = logs / "celery.log"
        with output.open("wb") as log:
            worker = subprocess.Popen(  # noqa: S603
                [str(BIN / "celery"), "-A", "app.jobs.worker", "worker"]
                + ["--pool=prefork", f"--concurrency={concurrency}"]
                + ["--loglevel=WARNING", f"--hostname={name}"]
                + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT,
                env=dict(os.environ, **{k: str(v) for k, v in settings.items()}),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for the children
            )
        try:
            deadline = time.monotonic() + 60
            while not celery.control.ping(destination=[name], timeout=0.5):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the Celery worker did not start ({output})")
            yield app
        except BaseException:
            print(output.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            worker.terminate()  # warm shutdown: the children finish their task
            with suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=30)
            with suppress(ProcessLookupError):  # any child left in its group
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            celery.close()
