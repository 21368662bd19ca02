"""From install to a complete 30-day chart: how long after the OAuth callback
starts are the 29 finished days stored, and the first overview shown.

The callback queues `backfill_figures` (app/jobs/figures.py): without
REDIS_URL it runs eagerly, inside the callback, before the redirect; with it,
a Celery worker runs it while the browser follows the redirect to the
overview, which fetches (and stores) any finished day not stored yet itself.

Each of --installs installs is a new user of the app installing the sandbox's
first demo creator: sign-up and consent with Kit's latency off, then, at
--latency-ms per Kit call, the callback (timed from its start), and at once
the overview, as a browser follows the redirect, while a thread polls the
table for the 29 finished days. Today's figures are never stored: the overview
asks Kit for them. Prints the medians of: the callback; callback start to the
29 days stored; callback start to the first overview served (the whole chart
on the page); and the Kit calls of the overview and of the whole install
(counted from the sandbox's request log, once Kit has been idle for
0.5 s); each time against one Kit call (`GET /v4/account` at the sandbox,
its latency included) measured in the same run. Run eagerly, then with a
real `celery -A app.jobs.worker worker` and redis-server (skipped without
redis-server). A benchmark: it prints figures and never fails.

    .venv/bin/python -m bench.install_chart [--latency-ms 100] [--installs 5]
        [--concurrency 2] [--database-url ...]

--database-url DROPS EVERY TABLE of that database first.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from sqlalchemy import func, select

from app import stored_days
from app.extensions import cache, db
from app.kit import api
from app.models import KitConnection
from bench.common import (
    Baseline,
    against,
    argument_parser,
    bench_app,
    jobs_app,
    kit_call_seconds,
    kit_calls,
    sign_up_and_consent,
)
from bench.connections import fresh_schema
from kit_sandbox import SandboxConfig, SandboxServer

FINISHED_DAYS = stored_days.GROWTH_DAYS - 1
POLL = 0.005  # seconds between two looks at the table
# One install: the callback, the days stored and the overview served (seconds
# from the callback's start), the overview's Kit calls, the install's.
Install = tuple[float, float, float, int, int]
# Forms posted without their CSRF token; every sign-up from one address.
TEST_CLIENT = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def days_stored(app: Flask, after_id: int, started: float, seconds: float) -> float:
    """Seconds from `started` until the first connection newer than `after_id`
    has all its finished days stored (nan if not within `seconds`)."""
    deadline = started + seconds
    with app.app_context():
        while time.perf_counter() < deadline:
            newest = db.session.scalar(select(func.max(KitConnection.id))) or 0
            count = 0
            if newest > after_id:  # its days are its Kit account's (time zone)
                today = stored_days.zone_of(newest).today()
                count = len(stored_days.stored(newest, stored_days.window(today)[:-1]))
            db.session.remove()  # a new snapshot next time
            if count == FINISHED_DAYS:
                return time.perf_counter() - started
            time.sleep(POLL)
    return float("nan")


def until_idle(kit: SandboxServer, quiet: float = 0.5) -> int:
    """Kit's call count once it has not changed for `quiet` seconds."""
    count = kit_calls(kit)
    while True:
        time.sleep(quiet)
        if kit_calls(kit) == count:
            return count
        count = kit_calls(kit)


@contextmanager
def calls_from_here() -> Iterator[list[str]]:
    """The URLs of the Kit API calls this process makes meanwhile (a view's,
    not a worker's): a response hook on the app's pooled HTTP session."""
    urls: list[str] = []

    def seen(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        urls.append(response.url)

    hooks = api.http_session().hooks["response"]
    hooks.append(seen)
    try:
        yield urls
    finally:
        hooks.remove(seen)


def install(
    app: Flask, kit: SandboxServer, number: int, latency_ms: int, follow: bool
) -> Install:
    """One install, timed from the callback's start (see `Install`). The
    overview is asked for right after the callback (`follow`, as a browser
    follows the redirect), or only once the days are stored."""
    with app.app_context():
        after_id = db.session.scalar(select(func.max(KitConnection.id))) or 0
        db.session.remove()
    client = app.test_client()
    kit.config.latency_ms = 0
    callback_url = sign_up_and_consent(client, f"creator{number}@example.com")
    kit.config.latency_ms = latency_ms
    with ThreadPoolExecutor(1) as poller:
        first = kit_calls(kit)
        started = time.perf_counter()
        stored = poller.submit(days_stored, app, after_id, started, 60)
        back = client.get(callback_url)
        callback = time.perf_counter() - started
        assert back.status_code == 302, back.text
        if not follow:
            stored.result()
        with calls_from_here() as view_calls:
            page = client.get(back.location)
        shown = time.perf_counter() - started
        assert page.status_code == 200, page.status_code
        days = stored.result()
    return callback, days, shown, len(view_calls), until_idle(kit) - first


def run(
    app: Flask, kit: SandboxServer, installs: int, latency_ms: int, follow: bool
) -> list[Install]:
    """`installs` installs into a fresh schema and an empty cache (the ids
    start again at 1). Outside an app context: a request would share it (and
    Flask-Login's user in `g`) with the next."""
    with app.app_context():
        fresh_schema()
        db.session.remove()
        cache.clear()
    rows = [install(app, kit, n, latency_ms, follow) for n in range(installs)]
    with app.app_context():
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argument_parser(
        "bench.install_chart", __doc__, latency_ms=100, concurrency=2, database_url=True
    )
    parser.add_argument("--installs", type=int, default=5)
    args = parser.parse_args()
    latency = args.latency_ms

    workdir = Path(tempfile.mkdtemp(prefix="bench-install-chart-"))
    database_url = args.database_url or f"sqlite:///{workdir}/bench.db"
    config = SandboxConfig(
        redirect_uris=["http://localhost/kit/oauth/callback"],
        authorization_url="http://localhost/kit/oauth",
        rate_limit=100_000,
    )
    results = {}
    with SandboxServer(config).start() as kit:
        kit.config.latency_ms = latency
        one_call = Baseline.of("one Kit call", kit_call_seconds(kit))
        kit.config.latency_ms = 0
        app = bench_app(kit, database_url, **TEST_CLIENT)
        app.extensions["celery"].set_current()
        results["eager (no Redis)"] = run(app, kit, args.installs, latency, True)
        if shutil.which("redis-server"):
            with jobs_app(
                kit, database_url, args.concurrency, workdir, **TEST_CLIENT
            ) as app:
                for label, follow in (
                    ("worker, view at once", True),
                    ("worker, view after", False),
                ):
                    results[label] = run(app, kit, args.installs, latency, follow)

    print(
        f"Install to a complete 30-day chart, Kit latency {args.latency_ms} ms, "
        f"{args.installs} installs each (medians, from the callback's start); "
        f"{one_call} in this run"
    )
    header = ("callback", "days stored", "chart shown")
    print(f"{'':<22}" + "".join(f"{h:<28}" for h in header) + "view calls  all calls")
    for name, rows in results.items():
        columns = list(zip(*rows, strict=True))
        times = [against(statistics.median(c), one_call) for c in columns[:3]]
        calls = [statistics.mean(c) for c in columns[3:]]
        print(
            f"{name:<22}"
            + "".join(f"{t:<28}" for t in times)
            + "".join(f"{c:>10.1f} " for c in calls)
        )
    if len(results) == 1:
        print("(no redis-server: the run with a Celery worker was skipped)")


if __name__ == "__main__":
    main()
