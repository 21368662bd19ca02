"""A creator's burst: 32 requests at once from one creator right after the
token expired, Kit healthy, against one warm view and one refresh.

A creator comes back after an hour and their browser restores its tabs: the
stored access token has expired (in storage and at the sandbox) and the
cached Kit answers are stale (`kit_cache.invalidate`, as after the cache's
minute), so every request needs Kit and the first needs a refresh. --requests
requests of one signed-in creator are released together, over the overview,
forms, sequences and tags pages in turn, --rounds times.

The app runs as in production with its defaults: gunicorn with
gunicorn.conf.py (--workers workers of 4 threads), a redis-server of its own
(cache, limits), the default slots for requests that wait on Kit (3 a
worker, 2 a creator, a request waiting up to KIT_SLOT_WAIT for one), SQLite
unless --database-url. Kit answers every call after --latency-ms.

Baselines, measured in the same run from the same server and client:
- one warm view: each page once more from the cache, one at a time;
- one refresh: one page alone right after expiry, cache stale (the same
  refresh and Kit calls as the burst's first request, without the other 31);
- one token refresh at Kit, and one Kit call, without the app.

Printed: p50 / p99 of the burst's requests against those, their statuses
(a 503 is "try again"; the target is every one a 200) and the token requests
Kit received per round (target 1). A benchmark: it prints figures whatever
they are.

    .venv/bin/python -m bench.burst [--rounds 3] [--requests 32]
        [--workers 4] [--latency-ms 100] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import requests
from sqlalchemy import create_engine, select, update
from sqlalchemy.engine import Engine, make_url

from app import kit_cache
from app.models import KitConnection
from bench.common import (
    Baseline,
    against,
    argument_parser,
    bench_app,
    duration,
    gunicorn,
    install_creator,
    kit_call_seconds,
    percentile,
    redis_server,
    token_refresh_seconds,
)
from bench.refresh_storm import storm
from kit_sandbox import SandboxConfig, SandboxServer

PAGES = ("/c/{id}", "/c/{id}/forms", "/c/{id}/sequences", "/c/{id}/tags")
WARM_VIEWS = 5  # of each page
ALONE_VIEWS = 2  # of each page, each right after expiry


def view(session: requests.Session, url: str) -> tuple[int, float]:
    """One page view: its status (0 if it failed to answer) and seconds."""
    started = time.perf_counter()
    try:
        status = session.get(url, timeout=120, allow_redirects=False).status_code
    except requests.RequestException:
        status = 0
    return status, time.perf_counter() - started


def main() -> None:
    parser = argument_parser(
        "bench.burst", __doc__, latency_ms=100, workers=4, database_url=True
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=32)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="burst-"))
    database_url = args.database_url or f"sqlite:///{workdir}/burst.db"
    burst: list[tuple[int, float]] = []
    refreshes: list[int] = []
    with (
        SandboxServer(SandboxConfig()).start() as kit,
        redis_server() as redis_url,
        gunicorn(
            kit, database_url, args.workers, workdir, REDIS_URL=redis_url
        ) as app_url,
    ):
        browser = install_creator(app_url, kit, database_url)
        engine = create_engine(database_url)
        with engine.connect() as conn:
            connection_id = conn.execute(select(KitConnection.id)).scalar_one()
        # This process's view of the app's cache (the same Redis), to make the
        # connection's cached answers stale as the cache's timeout would.
        cache_app = bench_app(kit, database_url, REDIS_URL=redis_url)
        urls = [f"{app_url}{page.format(id=connection_id)}" for page in PAGES]
        kit.config.latency_ms = args.latency_ms

        def come_back() -> None:
            """The token expired and the cache stale: an hour away."""
            expire(engine, connection_id)
            kit.state.expire_access_tokens()
            with cache_app.app_context():
                kit_cache.invalidate(connection_id)

        alone = []
        for url in urls * ALONE_VIEWS:
            come_back()
            alone.append(view(browser, url)[1])
        for url in urls:
            view(browser, url)  # each page in the cache, the token fresh
        warm = [view(browser, url)[1] for url in urls for _ in range(WARM_VIEWS)]
        kit_call = kit_call_seconds(kit)
        kit_refresh = token_refresh_seconds(kit)

        for _ in range(args.rounds):
            come_back()
            views = []
            for n in range(args.requests):
                session = requests.Session()  # a tab: its own connection
                session.cookies.update(browser.cookies.get_dict())
                views.append(partial(view, session, urls[n % len(urls)]))
            before = kit.state.stats()["token_requests"]
            burst.extend(storm(views))
            refreshes.append(kit.state.stats()["token_requests"] - before)
        engine.dispose()

    warm_view = Baseline.of("one warm view", warm)
    one_refresh = Baseline.of("one refresh", alone)
    backend = make_url(database_url).get_backend_name()
    print(
        f"A creator's burst: {args.requests} requests at once right after the "
        f"token expired (cache stale), {len(PAGES)} pages in turn, Kit latency "
        f"{args.latency_ms} ms, gunicorn {args.workers}x4 with the default Kit "
        f"slots, {backend}, {args.rounds} rounds"
    )
    print("baselines, same run, same server and client (p50):")
    print(f"  one warm view (each page from the cache): {duration(warm_view.seconds)}")
    print(
        "  one refresh (one page alone right after expiry): "
        f"{against(one_refresh.seconds, warm_view)}"
    )
    print(
        "  of which at Kit: one token refresh "
        f"{against(percentile(kit_refresh, 0.5), one_refresh)}, one API call "
        f"{against(percentile(kit_call, 0.5), one_refresh)}"
    )
    seconds = [s for status, s in burst if status == 200]
    statuses = Counter(status for status, _ in burst)
    print(
        f"the burst's {len(burst)} requests: statuses {dict(sorted(statuses.items()))}"
    )
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        if seconds:
            print(
                f"  {label} {against(percentile(seconds, q), one_refresh, warm_view)}"
            )
    print(f"token requests at Kit per round: {refreshes} (target 1 each)")


def expire(engine: Engine, connection_id: int) -> None:
    """The stored access token expired a minute ago."""
    with engine.begin() as conn:
        conn.execute(
            update(KitConnection.__table__)
            .where(KitConnection.__table__.c.id == connection_id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )


if __name__ == "__main__":
    main()
