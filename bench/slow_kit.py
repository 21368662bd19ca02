"""A hung Kit: what the rest of the app does while Kit does not answer.

Six creators, each with one Kit connection whose access token has just expired
(in storage and at the sandbox). Kit then takes --hang-ms to answer anything,
its token endpoint included, and each creator opens their overview and two
more Kit pages at once: every one of those requests needs a refresh, and every
refresh waits on Kit. Meanwhile a prober asks for pages that need no Kit call,
one after another: `/healthz`, the sign-in page, and a sign-in attempt with a
wrong password (a database read and a password hash).

The app runs as in production: gunicorn with gunicorn.conf.py, --workers
workers of 4 threads each, SQLite (or --database-url), a redis-server of its
own as REDIS_URL (shared limits and cache, as production requires).

Printed: for the pages that need no Kit call, p50 / p99 / max latency and
their statuses, against the same pages' p50 / p99 from the same prober with
Kit well (--baseline-seconds of probing before Kit hangs); for the Kit pages,
their statuses (a 503 is "try again", a 500 is a failure) and when the last
answered, against one Kit call made meanwhile. A benchmark: it prints figures
whatever they are.

    .venv/bin/python -m bench.slow_kit [--hang-ms 10000] [--workers 2]
        [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, select, update

from app.models import KitConnection
from bench.common import (
    Baseline,
    add_creators,
    against,
    argument_parser,
    gunicorn,
    percentile,
    redis_server,
    sign_in_and_install,
)
from kit_sandbox import SandboxConfig, SandboxServer, testing

CREATORS = 6
PAGES = ("/c/{id}", "/c/{id}/forms", "/c/{id}/tags")


def probe(app_url: str, stop: threading.Event) -> list[tuple[str, float, int]]:
    """Pages that need no Kit call, one after another until `stop`: (what,
    seconds, status)."""
    session = requests.Session()
    page = session.get(f"{app_url}/login", timeout=10)
    [login] = [f for f in testing.forms(page.text, page.url) if "password" in f.fields]
    wrong = dict(login.fields, email="nobody@example.com", password="wrong")  # noqa: S106
    seen = []
    while not stop.is_set():
        for what, call in (
            ("/healthz", lambda: session.get(f"{app_url}/healthz", timeout=120)),
            ("GET /login", lambda: session.get(f"{app_url}/login", timeout=120)),
            (
                "POST /login",
                lambda: session.post(login.action, data=wrong, timeout=120),
            ),
        ):
            started = time.perf_counter()
            try:
                status = call().status_code
            except requests.RequestException:
                status = 0
            seen.append((what, time.perf_counter() - started, status))
        time.sleep(0.1)
    return seen


def main() -> None:
    parser = argument_parser(__name__, __doc__, workers=2, database_url=True)
    parser.add_argument("--hang-ms", type=int, default=10_000)
    parser.add_argument("--baseline-seconds", type=float, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="slow-kit-"))
    database_url = args.database_url or f"sqlite:///{workdir}/slow.db"
    with (
        SandboxServer(SandboxConfig()).start() as kit,
        redis_server() as redis_url,
        gunicorn(
            kit,
            database_url,
            args.workers,
            workdir,
            REDIS_URL=redis_url,
            KIT_CACHE_SECONDS="0",
            KIT_HTTP_TIMEOUT="30",
        ) as app_url,
    ):
        creators = add_creators(database_url, CREATORS)
        browsers = [sign_in_and_install(app_url, *c) for c in creators]
        well = probe_for(app_url, args.baseline_seconds)
        engine = create_engine(database_url)
        with engine.begin() as conn:
            ids = list(conn.execute(select(KitConnection.id)).scalars())
            conn.execute(
                update(KitConnection.__table__).values(
                    expires_at=datetime.now(UTC) - timedelta(minutes=1)
                )
            )
        engine.dispose()
        kit.state.expire_access_tokens()
        kit_call = kit_caller(kit)
        kit.config.latency_ms = args.hang_ms

        statuses: Counter[str] = Counter()
        stop = threading.Event()
        probes: list[tuple[str, float, int]] = []
        prober = threading.Thread(target=lambda: probes.extend(probe(app_url, stop)))

        def view(browser: requests.Session, path: str) -> None:
            session = requests.Session()
            session.cookies.update(browser.cookies.get_dict())
            try:
                response = session.get(
                    f"{app_url}{path}", timeout=300, allow_redirects=False
                )
                statuses[str(response.status_code)] += 1
            except requests.RequestException as exc:
                statuses[type(exc).__name__] += 1

        views = [
            threading.Thread(target=view, args=(b, p.format(id=i)))
            for b, i in zip(browsers, ids, strict=True)
            for p in PAGES
        ]
        one_call: list[float] = []
        views.append(threading.Thread(target=lambda: one_call.append(kit_call())))
        started = time.perf_counter()
        prober.start()
        time.sleep(0.3)
        for thread in views:
            thread.start()
        for thread in views:
            thread.join()
        kit_pages_done = time.perf_counter() - started
        stop.set()
        prober.join()
        kit.config.latency_ms = 0

    hung = Baseline("one Kit call", one_call[0])
    print(
        f"Kit answers after {args.hang_ms} ms; {len(views) - 1} Kit pages of "
        f"{CREATORS} creators with expired tokens, gunicorn {args.workers}x4, "
        f"{'PostgreSQL' if database_url.startswith('postgresql') else 'SQLite'}"
    )
    print(
        f"Kit pages: {dict(statuses)}, all answered after "
        f"{against(kit_pages_done, hung)}"
    )
    print(
        "pages without Kit meanwhile, against the same page with Kit well "
        f"({args.baseline_seconds:.0f} s of probing first)"
    )
    print(f"{'':<12}{'n':>5}  {'p50':<32}{'p99':<32}{'max':<32}statuses")
    for what in ("/healthz", "GET /login", "POST /login"):
        times = [t for w, t, _ in probes if w == what]
        before = [t for w, t, _ in well if w == what]
        codes = Counter(str(s) for w, _, s in probes if w == what)
        p50 = Baseline.of("well p50", before, 0.5)
        p99 = Baseline.of("well p99", before, 0.99)
        print(
            f"{what:<12}{len(times):>5}  {against(percentile(times, 0.5), p50):<32}"
            f"{against(percentile(times, 0.99), p99):<32}"
            f"{against(max(times), p99):<32}{dict(codes)}"
        )


def probe_for(app_url: str, seconds: float) -> list[tuple[str, float, int]]:
    """`probe` for `seconds`."""
    stop = threading.Event()
    seen: list[tuple[str, float, int]] = []
    prober = threading.Thread(target=lambda: seen.extend(probe(app_url, stop)))
    prober.start()
    time.sleep(seconds)
    stop.set()
    prober.join()
    return seen


def kit_caller(kit: SandboxServer) -> Callable[[], float]:
    """A Kit API call ready to go (its token got now), returning its seconds."""
    session = requests.Session()
    token = testing.real_grant(kit)["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"

    def call() -> float:
        started = time.perf_counter()
        session.get(f"{kit.url}/v4/account", timeout=300)
        return time.perf_counter() - started

    return call


if __name__ == "__main__":
    main()
