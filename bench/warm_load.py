"""The warm overview under load as browsers see it, in one run against
`/healthz`: gunicorn (several workers, Redis) and the Kit sandbox as in
`bench.load`, --clients concurrent clients on each path for --seconds:

- `/healthz`, the baseline;
- the overview asked by a client that keeps no copy (Python `requests`, as
  `bench.load`): a 200 with the whole page, from the page cache;
- the overview asked by a client that keeps the page and comes back with its
  ETag (`If-None-Match`), as a browser does for a `no-cache` page: a 304 while
  nothing on the page moved.

Prints requests, errors, req/s, p50 and p99 per row, each against `/healthz`'s.
A benchmark: it prints figures, never fails.

    .venv/bin/python -m bench.warm_load [--clients 100] [--seconds 30]
        [--workers 4] [--path /dashboard]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import requests

from bench.common import (
    Baseline,
    against,
    argument_parser,
    gunicorn,
    install_creator,
    rate_against,
)
from bench.load import hammer
from kit_sandbox import SandboxConfig, SandboxServer

Row = tuple[str, int, int, float, float, float]


def drive(
    url: str,
    cookies: dict,
    seconds: float,
    revalidate: bool,
    results: list,
    errors: list,
) -> None:
    with requests.Session() as session:
        session.cookies.update(cookies)
        etag = None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            headers = {"If-None-Match": etag} if revalidate and etag else {}
            started = time.perf_counter()
            try:
                answer = session.get(
                    url, headers=headers, timeout=30, allow_redirects=False
                )
                ok = answer.status_code in ((200, 304) if revalidate else (200,))
                etag = answer.headers.get("ETag", etag)
            except requests.RequestException:
                ok = False
            (results if ok else errors).append(time.perf_counter() - started)


def run(
    label: str, url: str, cookies: dict, revalidate: bool, args: argparse.Namespace
) -> Row:
    return hammer(
        label,
        args.clients,
        lambda results, errors: drive(
            url, cookies, args.seconds, revalidate, results, errors
        ),
    )


def main() -> None:
    parser = argument_parser("bench.warm_load", __doc__, latency_ms=0, workers=4)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--path", default="/dashboard")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-warm-load-"))
    database_url = f"sqlite:///{workdir}/load.db"
    rows: list[Row] = []
    with (
        SandboxServer(SandboxConfig(latency_ms=args.latency_ms)).start() as kit,
        gunicorn(
            kit, database_url, args.workers, workdir, KIT_REQUESTS_PER_USER="1000"
        ) as app_url,
    ):
        browser = install_creator(app_url, kit, database_url)
        browser.get(f"{app_url}{args.path}", timeout=30)  # the install's flash
        cookies = browser.cookies.get_dict()
        rows.append(run("/healthz", f"{app_url}/healthz", cookies, False, args))
        url = f"{app_url}{args.path}"
        rows.append(run(args.path, url, cookies, False, args))
        rows.append(run(f"{args.path} (ETag)", url, cookies, True, args))

    print(
        f"gunicorn ({args.workers} workers x 4 threads), {args.clients} clients, "
        f"{args.seconds:.0f} s per row, Kit latency {args.latency_ms} ms"
    )
    _, _, _, base_rate, base_p50, base_p99 = rows[0]
    p50s = Baseline("/healthz p50", base_p50)
    p99s = Baseline("/healthz p99", base_p99)
    print(f"{'path':<22}{'requests':>9}{'errors':>7}  {'req/s':<28}{'p50':<32}p99")
    for label, count, errors, rate, p50, p99 in rows:
        print(
            f"{label:<22}{count:>9}{errors:>7}  "
            f"{rate_against(rate, base_rate, '/healthz'):<28}"
            f"{against(p50, p50s):<32}{against(p99, p99s)}"
        )


if __name__ == "__main__":
    main()
