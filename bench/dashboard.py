"""How long the dashboard's overview takes with slow Kit calls, before and after
the finished days are stored, and how many Kit calls a view makes.

The overview shows the account, its email stats, the latest broadcasts and 30
days of growth figures. A finished day no longer changes: once stored (the
backfill after an install, the hourly sync) it is read from the database, so
a cold view asks Kit only for the account, the email stats, the broadcasts and
today: 4 calls. Before the days are stored it also asks for each missing day,
in the same parallel batch: 33 calls, as the overview did before it kept them.

The sandbox adds --latency-ms to each Kit call. Cold = cache dropped before
each view; "no days stored" also deletes the connection's stored days before
each view (the view fetches and stores them again); warm = the same view
again, from the cache. Also runs the cold view with one call in flight at a
time, to show what the parallel calls buy. Kit calls per view are counted from
the sandbox's request log. Each time is told against one Kit call (`GET
/v4/account` at the sandbox, its latency included) and `/healthz` from the
same test client, both measured in the same run. A benchmark: it prints
figures and never fails.

    .venv/bin/python -m bench.dashboard [--latency-ms 100] [--views 10]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from app import kit_cache, stored_days
from bench.common import (
    Baseline,
    against,
    argument_parser,
    bench_app,
    kit_call_seconds,
    kit_calls,
    migrate,
    percentile,
    sign_up_and_install,
    timed,
)
from kit_sandbox import SandboxConfig, SandboxServer

CONNECTION = 1  # the one connection of each fresh database


def drop_cache() -> None:
    kit_cache.invalidate(CONNECTION)


def drop_cache_and_days() -> None:
    kit_cache.invalidate(CONNECTION)
    stored_days.forget(CONNECTION)


def timed_views(
    client: FlaskClient,
    app: Flask,
    kit: SandboxServer,
    views: int,
    before_each: Callable[[], None] | None,
) -> tuple[list[float], float]:
    """`views` views of the overview, `before_each` run (in an app context)
    before each: their times, and the Kit calls per view."""
    times, calls = [], 0
    for _ in range(views):
        if before_each is not None:
            with app.app_context():
                before_each()
        sent = kit_calls(kit)
        started = time.perf_counter()
        response = client.get("/dashboard")
        times.append(time.perf_counter() - started)
        calls += kit_calls(kit) - sent
        assert response.status_code == 200, response.status_code
    return times, calls / views


def installed_client(
    kit: SandboxServer, parallel_calls: int
) -> tuple[Flask, FlaskClient]:
    """A fresh app and database, a creator installed (the backfill stores the
    finished days), and one warm-up view; Kit's latency off meanwhile."""
    app = bench_app(
        kit,
        f"sqlite:///{tempfile.mkdtemp()}/bench.db",
        KIT_PARALLEL_CALLS=parallel_calls,
        WTF_CSRF_ENABLED=False,
    )
    with app.app_context():
        migrate()
    client = app.test_client()
    latency = kit.config.latency_ms
    kit.config.latency_ms = 0
    sign_up_and_install(client)
    client.get("/dashboard")  # warm up imports and the sandbox's seed
    kit.config.latency_ms = latency
    return app, client


def main() -> None:
    parser = argument_parser("bench.dashboard", __doc__, latency_ms=100)
    parser.add_argument("--views", type=int, default=10)
    args = parser.parse_args()

    config = SandboxConfig(
        redirect_uris=["http://localhost/kit/oauth/callback"],
        authorization_url="http://localhost/kit/oauth",
        rate_limit=100_000,
        latency_ms=args.latency_ms,
    )
    results = {}
    with SandboxServer(config).start() as kit:
        app, client = installed_client(kit, parallel_calls=16)
        healthz = Baseline.of("/healthz", timed(lambda: client.get("/healthz"), 50))
        one_call = Baseline.of("one Kit call", kit_call_seconds(kit))
        for name, before_each in (
            ("cold, no days stored", drop_cache_and_days),
            ("cold, days stored", drop_cache),
            ("warm (cached)", None),
        ):
            results[name] = timed_views(client, app, kit, args.views, before_each)
        app, client = installed_client(kit, parallel_calls=1)
        results["cold, days stored, 1 at a time"] = timed_views(
            client, app, kit, args.views, drop_cache
        )

    print(
        f"Kit latency {args.latency_ms} ms per call, {args.views} views each; "
        f"baselines from this run: {one_call}, {healthz} (p50, same test client)"
    )
    print(f"{'overview':<32}{'p50':<50}{'p95':<30}{'Kit calls':>9}")
    for name, (times, kits) in results.items():
        p50 = against(statistics.median(times), one_call, healthz)
        p95 = against(percentile(times, 0.95), one_call)
        print(f"{name:<32}{p50:<50}{p95:<30}{kits:>9.1f}")


if __name__ == "__main__":
    main()
