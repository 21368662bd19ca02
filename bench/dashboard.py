"""How long the dashboard's overview takes with slow Kit calls: cold and cached.

The overview needs 33 Kit calls (account, email stats, latest broadcasts, and
one growth figure per day for 30 days; the totals are summed from the days).
The sandbox adds --latency-ms to each. Cold = cache dropped before each view;
cached = the same view again. Also runs the cold view with one call in flight
at a time, to show what the parallel calls buy. A benchmark: it prints figures
and never fails.

    .venv/bin/python -m bench.dashboard [--latency-ms 100] [--views 10]
"""

from __future__ import annotations

import statistics
import tempfile
import time

from flask import Flask
from flask.testing import FlaskClient

from app.dashboard import data
from bench.common import (
    argument_parser,
    bench_app,
    migrate,
    percentile,
    sign_up_and_install,
)
from kit_sandbox import SandboxConfig, SandboxServer


def timed_views(client: FlaskClient, app: Flask, views: int, cold: bool) -> list[float]:
    times = []
    for _ in range(views):
        if cold:
            with app.app_context():
                data.invalidate(1)
        started = time.perf_counter()
        response = client.get("/dashboard")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return times


def main() -> None:
    parser = argument_parser("bench.dashboard", __doc__, latency_ms=100)
    parser.add_argument("--views", type=int, default=10)
    args = parser.parse_args()

    config = SandboxConfig(
        redirect_uris=["http://localhost/kit/oauth/callback"],
        authorization_url="http://localhost/kit/oauth",
        rate_limit=100_000,
    )
    results = {}
    with SandboxServer(config).start() as kit:
        for label, parallel_calls in (("parallel", 16), ("sequential", 1)):
            app = bench_app(
                kit,
                f"sqlite:///{tempfile.mkdtemp()}/bench.db",
                KIT_PARALLEL_CALLS=parallel_calls,
                WTF_CSRF_ENABLED=False,
            )
            with app.app_context():
                migrate()
            client = app.test_client()
            kit.config.latency_ms = 0
            sign_up_and_install(client)
            client.get("/dashboard")  # warm up imports and the sandbox's seed
            kit.config.latency_ms = args.latency_ms
            results[f"cold, {label}"] = timed_views(client, app, args.views, True)
            if label == "parallel":
                results["cached"] = timed_views(client, app, args.views, False)

    one_call = args.latency_ms / 1000
    print(f"Kit latency {args.latency_ms} ms per call, {args.views} views each")
    print(f"{'overview':<22}{'p50 ms':>9}{'p95 ms':>9}{'x one call':>12}")
    for name, times in results.items():
        p50 = statistics.median(times)
        p95 = percentile(times, 0.95)
        ratio = f"{p50 / one_call:.1f}" if one_call else "-"
        print(f"{name:<22}{p50 * 1000:>9.0f}{p95 * 1000:>9.0f}{ratio:>12}")


if __name__ == "__main__":
    main()
