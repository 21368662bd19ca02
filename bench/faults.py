"""Faults: what a creator sees when Kit, Redis or the database fails halfway,
and what an attacker gets from the sign-up and sign-in pages.

The app runs as in production (gunicorn with gunicorn.conf.py, --workers
workers, SQLite or --database-url, a redis-server of its own, a Celery worker,
rate limits on, one proxy hop trusted so each request can come from its own
client address), a client of the sandbox. Each scenario prints one line of
what happened, whatever it is:

- takeover: a victim signs up; someone signs up again with the victim's
  address and their own password; the victim confirms from their mail. Can
  the other person then sign in?
- mail origin: a forgot-password request sent with `Host: 127.0.0.1:6666`.
  Where does the mailed link point?
- forgot-password: five requests for an account and five for an unknown
  address: the answers.
- guessing: 30 wrong passwords for one account from 30 client addresses,
  then the right one from a 31st.
- slow token endpoint: Kit's token endpoint answers after KIT_HTTP_TIMEOUT
  (it still rotates the pair). The page, then the connection's state.
- database locked: Kit answers a refresh while the database refuses writes
  for longer than SQLite's busy timeout (SQLite only). The pair afterwards.
- burst: 32 requests at once from one creator after the token expired.
- broadcast stats missing: `GET /v4/broadcasts/stats` answers 404 (where
  the sandbox can be told to).
- failed disconnect: Kit's revoke answers 500. Is the webhook endpoint at
  Kit still there?
- Redis well, frozen, then stopped: the pages a creator uses, and /healthz;
  the slowest page against the slowest with Redis well.

`--app-root` serves another checkout's app/ (e.g. a worktree of an earlier
commit) with this bench and sandbox, for before/after figures.

    .venv/bin/python -m bench.faults [--workers 2] [--app-root PATH]
        [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from bench.common import (
    BIN,
    ROOT,
    Baseline,
    against,
    argument_parser,
    gunicorn,
    production_env,
    redis_server,
)
from bench.slow_kit import add_creators, sign_in_and_install
from kit_sandbox import SandboxConfig, SandboxServer, testing

API_TIMEOUT = 3  # KIT_HTTP_TIMEOUT for this run: a slow Kit is 4 s


def outbox(kit: SandboxServer, email: str) -> list[dict[str, object]]:
    answer = requests.get(
        f"{kit.url}/_sandbox/outbox.json", params={"to": email}, timeout=10
    )
    return list(answer.json()["messages"])


def links(kit: SandboxServer, email: str, path: str) -> list[str]:
    return [
        str(link)
        for mail in outbox(kit, email)
        for link in mail["links"]  # type: ignore[attr-defined]
        if urlsplit(str(link)).path == path
    ]


class Client(requests.Session):
    """A browser at its own client address (X-Forwarded-For, one hop)."""

    def __init__(self, app_url: str, address: str | None = None) -> None:
        super().__init__()
        self.app_url = app_url
        if address is not None:
            self.headers["X-Forwarded-For"] = address

    def submit(
        self, path: str, marker: str, timeout: float = 30, **fields: str
    ) -> requests.Response:
        """Fill the form of `path` that has a field named `marker`, and post it."""
        page = self.get(self.app_url + path, timeout=timeout)
        [form] = [f for f in testing.forms(page.text, page.url) if marker in f.fields]
        return self.post(form.action, data=dict(form.fields, **fields), timeout=timeout)


def signed_in(client: Client) -> bool:
    page = client.get(client.app_url + "/dashboard", timeout=30, allow_redirects=False)
    return page.status_code == 200


# --- the scenarios -----------------------------------------------------------------


def takeover(app_url: str, kit: SandboxServer) -> str:
    email = "victim@example.com"
    victim, other = Client(app_url, "10.1.0.1"), Client(app_url, "10.1.0.2")
    mine, theirs = "victim's own password 1", "the other person's pass 2"
    victim.submit("/signup", "confirm", email=email, password=mine, confirm=mine)
    other.submit("/signup", "confirm", email=email, password=theirs, confirm=theirs)
    link = links(kit, email, "/verify-email")[-1]
    page = victim.get(link, timeout=30)
    [form] = [f for f in testing.forms(page.text, page.url) if "token" in f.fields]
    asked = "password" in form.fields
    victim.post(form.action, data=dict(form.fields, password=mine), timeout=30)
    other.submit("/login", "password", email=email, password=theirs)
    return (
        f"victim asked for a password: {'yes' if asked else 'no'}; "
        f"victim signed in: {'yes' if signed_in(victim) else 'no'}; "
        f"the other person signed in with their password: "
        f"{'YES' if signed_in(other) else 'no'}"
    )


def mail_origin(app_url: str, kit: SandboxServer, email: str) -> str:
    client = Client(app_url, "10.2.0.1")
    page = client.get(app_url + "/forgot-password", timeout=30)
    [form] = [f for f in testing.forms(page.text, page.url) if "email" in f.fields]
    client.post(
        form.action,
        data=dict(form.fields, email=email),
        headers={"Host": "127.0.0.1:6666"},
        timeout=30,
    )
    time.sleep(1)  # mail may go from a job
    sent = links(kit, email, "/reset-password")
    origin = (
        "no mail" if not sent else "{0.scheme}://{0.netloc}".format(urlsplit(sent[-1]))
    )
    return f"Host: 127.0.0.1:6666 gives a reset link to {origin} (app: {app_url})"


def forgot_password(app_url: str, email: str) -> str:
    answers: dict[str, list[int]] = {}
    for who in (email, "nobody-here@example.com"):
        answers[who] = []
        for n in range(5):
            client = Client(app_url, f"10.3.{len(answers)}.{n + 1}")
            page = client.get(app_url + "/forgot-password", timeout=30)
            [form] = [
                f for f in testing.forms(page.text, page.url) if "email" in f.fields
            ]
            answer = client.post(
                form.action,
                data=dict(form.fields, email=who),
                allow_redirects=False,
                timeout=30,
            )
            answers[who].append(answer.status_code)
    known, unknown = answers.values()
    return f"an account: {known}; an unknown address: {unknown}"


def guessing(app_url: str, kit: SandboxServer, email: str, password: str) -> str:
    before = len(outbox(kit, email))
    statuses: Counter[int] = Counter()
    for n in range(30):
        client = Client(app_url, f"10.4.{n // 200}.{n % 200 + 1}")
        answer = client.submit("/login", "password", email=email, password=f"x{n}")
        statuses[answer.status_code] += 1
    right = Client(app_url, "10.4.9.9")
    right.submit("/login", "password", email=email, password=password)
    notices = len(outbox(kit, email)) - before
    return (
        f"30 wrong passwords answered {dict(statuses)}; the right one then: "
        f"{'signed in' if signed_in(right) else 'refused'}; mails to the owner: "
        f"{notices}"
    )


def expire(database_url: str, connection_id: int) -> None:
    """The stored access token has expired (the next page refreshes)."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE kit_connections SET expires_at = :t WHERE id = :id"),
            {"t": datetime.now(UTC) - timedelta(hours=1), "id": connection_id},
        )
    engine.dispose()


def connection_state(database_url: str, connection_id: int) -> str:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, last_error FROM kit_connections WHERE id = :id"),
            {"id": connection_id},
        ).one()
    engine.dispose()
    return f"{row[0]} ({row[1] or 'no error'})"


def slow_token_endpoint(
    app_url: str, kit: SandboxServer, browser: Client, database_url: str, cid: int
) -> str:
    expire(database_url, cid)
    kit.state.timeout_seconds = API_TIMEOUT + 1
    kit.state.add_fault("token", "hang")
    first = browser.get(f"{app_url}/c/{cid}", timeout=120).status_code
    time.sleep(API_TIMEOUT + 2)  # Kit has rotated the pair by now
    second = browser.get(f"{app_url}/c/{cid}", timeout=120).status_code
    return (
        f"token endpoint answering after {API_TIMEOUT + 1} s: page {first}, then "
        f"{second}; connection {connection_state(database_url, cid)}"
    )


def database_locked(
    app_url: str, kit: SandboxServer, browser: Client, database_url: str, cid: int
) -> str:
    if not database_url.startswith("sqlite"):
        return "skipped (SQLite only)"
    path = database_url.removeprefix("sqlite:///")
    expire(database_url, cid)
    kit.state.timeout_seconds = 1.0
    kit.state.add_fault("token", "hang")
    refreshes = kit.state.stats()["refresh_requests"]
    locked = threading.Event()

    def lock_while_kit_answers() -> None:
        # Once the app is at Kit (its claim committed), take the write lock
        # and keep it longer than SQLite's busy timeout (15 s).
        deadline = time.monotonic() + 30
        while kit.state.stats()["refresh_requests"] == refreshes:
            if time.monotonic() > deadline:
                return  # the page never refreshed
            time.sleep(0.01)
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(17)
        db.execute("ROLLBACK")
        db.close()

    holder = threading.Thread(target=lock_while_kit_answers)
    holder.start()
    first = browser.get(f"{app_url}/c/{cid}", timeout=120).status_code
    holder.join()
    second = browser.get(f"{app_url}/c/{cid}", timeout=120).status_code
    return (
        f"write lock held 17 s while Kit answered: page {first}, then {second}; "
        f"connection {connection_state(database_url, cid)}"
    )


def burst(app_url: str, browser: Client, database_url: str, cid: int) -> str:
    expire(database_url, cid)
    with ThreadPoolExecutor(32) as pool:
        statuses = Counter(
            pool.map(
                lambda _: browser.get(f"{app_url}/c/{cid}", timeout=120).status_code,
                range(32),
            )
        )
    return f"32 requests at once after expiry: {dict(sorted(statuses.items()))}"


def broadcast_stats_missing(
    app_url: str, kit: SandboxServer, browser: Client, cid: int
) -> str:
    add = getattr(kit.state, "add_path_fault", None)
    if add is None:
        return "skipped (this sandbox cannot fail one path)"
    add("/v4/broadcasts/stats", "404", times=100)
    answer = browser.get(f"{app_url}/c/{cid}?days=7", timeout=60)
    kit.state.clear_faults()
    figures = "vs previous" in answer.text  # the growth figures' comparisons
    notice = "unavailable right now" in answer.text
    return (
        f"overview {answer.status_code}; growth figures shown: {figures}; "
        f"the panel says it is unavailable: {notice}"
    )


def failed_disconnect(
    app_url: str, kit: SandboxServer, browser: Client, cid: int
) -> str:
    def endpoints() -> int:
        return sum(
            len(kit.state.webhooks.owned_endpoints(kit.config.client_id, account))
            for account in kit.state.accounts
        )

    deadline = time.monotonic() + 20
    while endpoints() == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # the worker registers the endpoint after the install
    before = endpoints()
    kit.state.add_fault("revoke", "500", times=10)
    page = browser.get(f"{app_url}/connections/{cid}/disconnect", timeout=30)
    action, fields = form_with_csrf(page.text, page.url)
    answer = browser.post(action, data=fields, timeout=60)
    kit.state.clear_faults()
    time.sleep(2)  # any job the disconnect started
    return (
        f"revoke 500: disconnect answered {answer.status_code}; webhook endpoints at "
        f"Kit {before} before, {endpoints()} after"
    )


def form_with_csrf(html: str, url: str) -> tuple[str, dict[str, str]]:
    [form] = [f for f in testing.forms(html, url) if "disconnect" in f.action]
    return form.action, dict(form.fields)


def pages(
    app_url: str,
    browser: Client,
    cid: int,
    email: str,
    password: str,
    newcomer: str,
    well: list[Baseline],
) -> str:
    """The pages a creator uses, each once: statuses, and the slowest, against
    the slowest of the same pages with Redis well (`well`: empty on that run,
    which then adds its own). `newcomer` signs up."""
    seen: list[tuple[str, int, float]] = []

    def visit(what: str, call: Callable[[], requests.Response]) -> None:
        started = time.perf_counter()
        try:
            status = call().status_code
        except requests.RequestException as exc:
            status = type(exc).__name__  # type: ignore[assignment]
        seen.append((what, status, time.perf_counter() - started))

    fresh = Client(app_url, "10.5.0.1")
    visit(
        "sign in",
        lambda: fresh.submit("/login", "password", email=email, password=password),
    )
    visit(
        "sign up",
        lambda: Client(app_url, "10.5.0.2").submit(
            "/signup",
            "confirm",
            email=newcomer,
            password="a long pass 123",  # noqa: S106
            confirm="a long pass 123",
        ),
    )
    for path in (f"/c/{cid}", f"/c/{cid}/subscribers", f"/c/{cid}/tags", "/dashboard"):
        visit(path, lambda path=path: browser.get(app_url + path, timeout=60))
    health = requests.get(app_url + "/healthz", timeout=30)
    worst = max(seen, key=lambda s: s[2])
    listed = ", ".join(f"{what} {status}" for what, status, _ in seen)
    slowest = against(worst[2], *well)
    if not well:
        well.append(Baseline("the slowest with Redis well", worst[2]))
    return (
        f"{listed}; slowest {slowest}; /healthz {health.status_code} "
        f"{health.text.strip()}"
    )


# --- the run -----------------------------------------------------------------------


@contextmanager
def celery_worker(
    environment: dict[str, str], app_root: Path, logs: Path
) -> Iterator[None]:
    with (logs / "celery.log").open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603
            [str(BIN / "celery"), "-A", "app.jobs.worker", "worker", "--pool=threads"]
            + ["--concurrency=4", "--loglevel=WARNING", "--without-gossip"]
            + ["--without-mingle", "--without-heartbeat"],
            cwd=app_root,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        worker.terminate()
        with suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=20)
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)


def report(name: str, run: Callable[[], str]) -> None:
    try:
        line = run()
    except Exception as exc:  # noqa: BLE001 - a benchmark prints what happened
        line = f"bench could not finish: {type(exc).__name__}: {exc}"[:300]
    print(f"{name:<26} {line}", flush=True)


def main() -> None:
    parser = argument_parser(__name__, __doc__, workers=2, database_url=True)
    parser.add_argument("--app-root", type=Path, default=ROOT)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="faults-"))
    database_url = args.database_url or f"sqlite:///{workdir}/faults.db"
    with (
        SandboxServer(SandboxConfig()).start() as kit,
        redis_server() as redis_url,
    ):
        settings = {
            "REDIS_URL": redis_url,
            "PROXY_FIX_HOPS": "1",
            "FLASK_RATELIMIT_ENABLED": "true",
            "KIT_HTTP_TIMEOUT": str(API_TIMEOUT),
            "KIT_CACHE_SECONDS": "0",  # every page asks Kit, so needs a token
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
        with gunicorn(
            kit, database_url, args.workers, workdir, None, args.app_root, **settings
        ) as app_url:
            environment = production_env(kit, database_url, app_url, **settings)
            with celery_worker(environment, args.app_root, workdir):
                run(app_url, kit, database_url, redis_url)


def run(app_url: str, kit: SandboxServer, database_url: str, redis_url: str) -> None:
    creators = add_creators(database_url, 6)
    email, password = creators[0]
    browsers = []
    for who, secret in creators[1:]:
        # No X-Forwarded-For: the address it signed in from, as a session is
        # bound to it (Flask-Login's "strong" protection).
        browser = Client(app_url)
        browser.cookies = sign_in_and_install(app_url, who, secret).cookies
        browsers.append(browser)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ids = [
            row[0]
            for row in conn.execute(text("SELECT id FROM kit_connections ORDER BY id"))
        ]
    engine.dispose()
    print(
        f"app {app_url}, database {database_url.split(':')[0]}, "
        f"{len(ids)} creators installed"
    )
    report("takeover", lambda: takeover(app_url, kit))
    report("mail origin", lambda: mail_origin(app_url, kit, email))
    report("forgot-password", lambda: forgot_password(app_url, email))
    report("guessing", lambda: guessing(app_url, kit, email, password))
    report(
        "slow token endpoint",
        lambda: slow_token_endpoint(app_url, kit, browsers[0], database_url, ids[0]),
    )
    report(
        "database locked",
        lambda: database_locked(app_url, kit, browsers[1], database_url, ids[1]),
    )
    report("burst", lambda: burst(app_url, browsers[2], database_url, ids[2]))
    report(
        "broadcast stats missing",
        lambda: broadcast_stats_missing(app_url, kit, browsers[2], ids[2]),
    )
    report(
        "failed disconnect",
        lambda: failed_disconnect(app_url, kit, browsers[3], ids[3]),
    )
    well: list[Baseline] = []

    def creator_pages(newcomer: str) -> str:
        return pages(app_url, browsers[2], ids[2], *creators[3], newcomer, well)

    report("Redis well", lambda: creator_pages("new@example.com"))
    server = redis.Redis.from_url(redis_url)
    pid = int(server.info()["process_id"])
    os.kill(pid, signal.SIGSTOP)
    report("Redis frozen", lambda: creator_pages("new-frozen@example.com"))
    os.kill(pid, signal.SIGCONT)
    with suppress(redis.RedisError):
        server.shutdown(nosave=True)
    report("Redis stopped", lambda: creator_pages("new-stopped@example.com"))


if __name__ == "__main__":
    main()
