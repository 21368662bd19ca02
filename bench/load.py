"""Load: the dashboard under gunicorn (several workers) against the Kit sandbox.

Starts the sandbox (in this process) and the app under gunicorn with
gunicorn.conf.py, installs one creator through the real OAuth flow, then drives
--clients concurrent clients on `/healthz` (the baseline: the cheapest page,
through the same server and clients), then on each of --paths (default
/dashboard), for --seconds each. Prints requests, errors, throughput, p50 and
p99 per path, each against `/healthz`'s. A benchmark: it prints figures,
never fails.

    .venv/bin/python -m bench.load [--clients 100] [--seconds 30] [--workers 4]
        [--latency-ms 0] [--paths /dashboard]
        [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bench.common import (
    Baseline,
    against,
    argument_parser,
    gunicorn,
    install_creator,
    percentile,
    rate_against,
)
from kit_sandbox import SandboxConfig, SandboxServer

BASELINE = "/healthz"


def drive(url: str, cookies: dict, seconds: float, results: list, errors: list) -> None:
    with requests.Session() as session:
        session.cookies.update(cookies)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                response = session.get(url, timeout=30, allow_redirects=False)
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            (results if ok else errors).append(time.perf_counter() - started)


def run_clients(
    url: str, path: str, cookies: dict, args: argparse.Namespace
) -> tuple[str, int, int, float, float, float]:
    """--clients threads on one URL for --seconds: (path, requests, errors,
    requests per second, p50 s, p99 s)."""
    return hammer(
        path,
        args.clients,
        lambda results, errors: drive(url, cookies, args.seconds, results, errors),
    )


def hammer(
    label: str, count: int, client: Callable[[list[float], list[float]], None]
) -> tuple[str, int, int, float, float, float]:
    """`count` threads each running `client(results, errors)` (it appends the
    time of each request to one list or the other): (label, requests, errors,
    requests per second, p50 s, p99 s)."""
    results, errors, elapsed = clients_at_once(count, client)
    return summary(label, results, errors, elapsed)


def clients_at_once(
    count: int, client: Callable[[list[float], list[float]], None]
) -> tuple[list[float], list[float], float]:
    """Run `count` threads of `client(results, errors)` to the end: the times
    of the requests that succeeded, of those that failed, and the seconds."""
    results: list[float] = []
    errors: list[float] = []
    clients = [
        threading.Thread(target=client, args=(results, errors)) for _ in range(count)
    ]
    started = time.perf_counter()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    return results, errors, time.perf_counter() - started


def summary(
    label: str, results: list[float], errors: list[float], elapsed: float
) -> tuple[str, int, int, float, float, float]:
    times = results or [0.0]
    total = len(results) + len(errors)
    return (
        label,
        total,
        len(errors),
        total / elapsed,
        statistics.median(times),
        percentile(times, 0.99),
    )


def main() -> None:
    parser = argument_parser(
        "bench.load", __doc__, latency_ms=0, workers=4, database_url=True
    )
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--paths",
        nargs="+",
        default=["/dashboard"],
        help="one run per path, each against /healthz (run first)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    database_url = args.database_url or f"sqlite:///{workdir}/load.db"
    rows: list[tuple[str, int, int, float, float, float]] = []
    with (
        SandboxServer(SandboxConfig(latency_ms=args.latency_ms)).start() as kit,
        gunicorn(
            kit,
            database_url,
            args.workers,
            workdir,
            # One creator stands for every client here: no per-creator cap.
            KIT_REQUESTS_PER_USER="1000",
        ) as app_url,
    ):
        browser = install_creator(app_url, kit, database_url)
        cookies = browser.cookies.get_dict()
        paths = [BASELINE, *(path for path in args.paths if path != BASELINE)]
        for path in paths:
            browser.get(f"{app_url}{path}", timeout=30)  # warm the cache once
            rows.append(run_clients(f"{app_url}{path}", path, cookies, args))
        api_requests = kit.state.stats()["api_requests"]

    print(
        f"gunicorn ({args.workers} workers x 4 threads), {args.clients} clients, "
        f"{args.seconds:.0f} s per path, Kit latency {args.latency_ms} ms"
    )
    _, _, _, base_rate, base_p50, base_p99 = rows[0]
    p50s = Baseline(f"{BASELINE} p50", base_p50)
    p99s = Baseline(f"{BASELINE} p99", base_p99)
    print(f"{'path':<14}{'requests':>9}{'errors':>7}  {'req/s':<28}{'p50':<32}p99")
    for path, requests_, errors, rate, p50, p99 in rows:
        print(
            f"{path:<14}{requests_:>9}{errors:>7}  "
            f"{rate_against(rate, base_rate, BASELINE):<28}"
            f"{against(p50, p50s):<32}{against(p99, p99s)}"
        )
    print(f"Kit API calls during the run: {api_requests}")


if __name__ == "__main__":
    main()
