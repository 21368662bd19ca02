"""What the benchmarks share: their command line, an app wired to the sandbox
(in this process, or under gunicorn as in production), a creator signed up and
installed through the app's pages, a real grant, percentiles, the app's jobs
in a real `celery ... worker` with a real redis-server, and the baselines.

A time alone says little on a shared machine: every time a benchmark prints
carries its ratio to a baseline measured in the same run (`Baseline`,
`against`), e.g. "12.3 ms (0.80 x /healthz p50)". The baselines measured here:
`/healthz` from the same server and client, one Kit API call, one token
refresh at Kit.

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask_migrate
import requests
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from werkzeug.security import generate_password_hash

from app import create_app
from app.kit import oauth
from app.models import User
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


# --- baselines ----------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A time measured in the same run as the figures told against it (same
    machine load, same server, same client), and what it is."""

    name: str
    seconds: float

    @classmethod
    def of(cls, name: str, samples: Sequence[float], q: float = 0.5) -> Baseline:
        """The baseline at rank `q` of `samples` (seconds), named `name`."""
        return cls(name, percentile(list(samples), q))

    def __str__(self) -> str:
        return f"{self.name} = {duration(self.seconds)}"


def duration(seconds: float) -> str:
    """A time with the digits that mean something: 0.42 ms, 12.3 ms, 412 ms,
    2.06 s, 20.6 s."""
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def times(ratio: float) -> str:
    """A ratio with two significant digits or so: 0.054, 0.80, 1.2, 12, 120."""
    if ratio != ratio:  # nan: no baseline to tell it against
        return "-"
    if ratio >= 10:
        return f"{ratio:.0f}"
    if ratio >= 1:
        return f"{ratio:.1f}"
    if ratio >= 0.1:
        return f"{ratio:.2f}"
    return f"{ratio:.3f}"


def ratio(value: float, base: float) -> float:
    return value / base if base else float("nan")


def against(seconds: float, *baselines: Baseline) -> str:
    """`seconds` with its ratio to each baseline: "12.3 ms (0.80 x /healthz
    p50)", or "412 ms (4.1 x one Kit call, 80 x one warm view)"."""
    told = ", ".join(
        f"{times(ratio(seconds, b.seconds))} x {b.name}" for b in baselines
    )
    return f"{duration(seconds)} ({told})" if told else duration(seconds)


def rate_against(rate: float, base: float, name: str, unit: str = "req/s") -> str:
    """A rate with its ratio to the baseline's: "220 req/s (0.54 x /healthz)"."""
    return f"{rate:,.0f} {unit} ({times(ratio(rate, base))} x {name})"


def timed(call: Callable[[], object], count: int) -> list[float]:
    """The seconds of `count` calls, one after another."""
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def healthz_seconds(
    app_url: str, session: requests.Session | None = None, count: int = 50
) -> list[float]:
    """`/healthz` of the app at `app_url`, `count` times one after another
    from `session` (the benchmark's own client): the cheapest page the server
    has, so its times are the server's and the client's overhead."""
    client = session or requests.Session()
    client.get(f"{app_url}/healthz", timeout=30)  # the connection opened first
    return timed(lambda: client.get(f"{app_url}/healthz", timeout=30), count)


def kit_call_seconds(kit: SandboxServer, count: int = 10) -> list[float]:
    """One Kit API call (`GET /v4/account` with a fresh grant's token) at the
    sandbox as it is configured now (its latency included), `count` times
    one after another, over a kept-alive connection as the app's client."""
    token = testing.real_grant(kit)["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.get(f"{kit.url}/v4/account", timeout=60)
    return timed(lambda: session.get(f"{kit.url}/v4/account", timeout=60), count)


def token_refresh_seconds(kit: SandboxServer, count: int = 10) -> list[float]:
    """One refresh at Kit's token endpoint (a real grant's refresh token
    spent for a new pair, each pair spending the last one's), `count` times
    one after another: what a refresh costs at Kit, without the app's work."""
    refresh_token = testing.real_grant(kit)["refresh_token"]
    session = requests.Session()
    form = {"grant_type": "refresh_token", "client_id": kit.config.client_id}
    if kit.config.client_secret:
        form["client_secret"] = kit.config.client_secret
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        answer = session.post(
            f"{kit.url}/v4/oauth/token",
            data=dict(form, refresh_token=refresh_token),
            timeout=60,
        )
        seconds.append(time.perf_counter() - started)
        refresh_token = answer.json()["refresh_token"]
    return seconds


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
    kit_url = client.application.config["KIT_API_URL"]
    earlier = len(mailed_links(kit_url, email))  # an earlier run's, same address
    response = client.post(
        "/signup", data={"email": email, "password": password, "confirm": password}
    )
    assert response.status_code == 302, response.text
    link = mailed_link(kit_url, email, after=earlier)
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


def mailed_links(kit_url: str, email: str, path: str = "/verify-email") -> list[str]:
    """The links to `path` mailed to `email`, oldest first: the app sends its
    mail to the sandbox's outbox, read over HTTP."""
    answer = requests.get(
        f"{kit_url}/_sandbox/outbox.json", params={"to": email}, timeout=10
    )
    return [
        str(link)
        for mail in answer.json()["messages"]
        for link in mail["links"]
        if urlsplit(link).path == path
    ]


def mailed_link(
    kit_url: str, email: str, path: str = "/verify-email", after: int = 0
) -> str:
    """The newest link to `path` mailed to `email` once there are more than
    `after` of them: with a Celery worker the mail goes a moment later."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = mailed_links(kit_url, email, path)
        if len(found) > after:
            return found[-1]
        time.sleep(0.1)
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


def add_creators(database_url: str, count: int) -> list[tuple[str, str]]:
    """`count` accounts of this app, written straight to its database (signed
    up and verified), so the bench does not depend on how sign-up works."""
    engine = create_engine(database_url)
    creators = []
    with engine.begin() as conn:
        for n in range(count):
            email, password = f"slow-kit-{n}@example.com", secrets.token_urlsafe(12)
            values = {
                "email": email,
                "password_hash": generate_password_hash(password),
                "created_at": datetime.now(UTC),
            }
            table = User.__table__
            for column in table.columns:
                if column.name in values or column.nullable or column.default:
                    continue
                if column.name.endswith("_at"):
                    values[column.name] = datetime.now(UTC)
                elif column.name.endswith("token"):
                    values[column.name] = secrets.token_urlsafe(16)
            if "email_verified_at" in table.columns:
                values["email_verified_at"] = datetime.now(UTC)
            if "data_agreed_at" in table.columns:
                # Agreed to what the app keeps (app/creator_data/agreement.py):
                # the install goes straight on to Kit's consent.
                values["data_agreed_at"] = datetime.now(UTC)
            conn.execute(table.insert().values(**values))
            creators.append((email, password))
    engine.dispose()
    return creators


def sign_in_and_install(app_url: str, email: str, password: str) -> requests.Session:
    """Sign in through the app's page, then install through Kit's consent."""
    browser = requests.Session()
    page = browser.get(f"{app_url}/login", timeout=10)
    [login] = [f for f in testing.forms(page.text, page.url) if "password" in f.fields]
    data = dict(login.fields, email=email, password=password)
    signed_in = browser.post(login.action, data=data, timeout=10)
    assert signed_in.ok, signed_in.status_code
    consent = browser.get(f"{app_url}/kit/oauth", timeout=10)
    form, button = testing.form_with_button(consent.text, consent.url, "allow")
    back = browser.post(
        form.action, data=dict(form.fields, **{button: "allow"}), timeout=60
    )
    assert back.url.startswith(f"{app_url}/dashboard"), back.url
    return browser


def install_creator(
    app_url: str, kit: SandboxServer, database_url: str
) -> requests.Session:
    """A creator of the app at `app_url` (on `database_url`), signed in and
    installed through its pages as a browser would (`add_creators`,
    `sign_in_and_install`); returns the signed-in browser. Not signed up
    through the pages: with REDIS_URL the confirmation mail goes from a job,
    and no Celery worker runs beside most benchmarks."""
    [creator] = add_creators(database_url, 1)
    return sign_in_and_install(app_url, *creator)


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
