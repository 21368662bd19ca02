"""How long the dashboard's overview takes with slow Kit calls: cold and cached.

The overview needs 34 Kit calls (account, email stats, latest broadcasts, the
30-day totals and one growth figure per day). The sandbox adds --latency-ms to
each. Cold = cache dropped before each view; cached = the same view again.
Also runs the cold view with one call in flight at a time, to show what the
parallel calls buy. A benchmark: it prints figures and never fails.

    .venv/bin/python bench/dashboard.py [--latency-ms 100] [--views 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402

from app.dashboard import data  # noqa: E402
from bench.common import bench_app  # noqa: E402
from kit_sandbox import SandboxConfig, SandboxServer  # noqa: E402
from kit_sandbox.testing import KitBrowser
from tests.conftest import install, sign_up  # noqa: E402


def timed_views(client, app, views: int, cold: bool) -> list[float]:  # type: ignore[no-untyped-def]
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--views", type=int, default=10)
    args = parser.parse_args()

    kit = SandboxServer(
        SandboxConfig(
            redirect_uris=["http://localhost/kit/oauth/callback"],
            authorization_url="http://localhost/kit/oauth",
            rate_limit=100_000,
        )
    ).start()
    results = {}
    for label, parallel_calls in (("parallel", 16), ("sequential", 1)):
        app = bench_app(
            kit,
            f"sqlite:///{tempfile.mkdtemp()}/bench.db",
            KIT_PARALLEL_CALLS=parallel_calls,
            WTF_CSRF_ENABLED=False,
        )
        with app.app_context():
            flask_migrate.upgrade()
        client = app.test_client()
        sign_up(client)
        kit.config.latency_ms = 0
        install(client, KitBrowser())
        client.get("/dashboard")  # warm up imports and the sandbox's seed
        kit.config.latency_ms = args.latency_ms
        results[f"cold, {label}"] = timed_views(client, app, args.views, cold=True)
        if label == "parallel":
            results["cached"] = timed_views(client, app, args.views, cold=False)
    kit.stop()

    one_call = args.latency_ms / 1000
    print(f"Kit latency {args.latency_ms} ms per call, {args.views} views each")
    print(f"{'overview':<22}{'p50 ms':>9}{'p95 ms':>9}{'x one call':>12}")
    for name, times in results.items():
        ordered = sorted(times)
        p50 = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        ratio = f"{p50 / one_call:.1f}" if one_call else "-"
        print(f"{name:<22}{p50 * 1000:>9.0f}{p95 * 1000:>9.0f}{ratio:>12}")


if __name__ == "__main__":
    main()
