"""The warm overview under load as browsers see it, in one run against
`/healthz`: gunicorn (several workers, Redis) and the Kit sandbox as in
`bench.load`, --clients concurrent clients on each path for --seconds:

- `/healthz`, the baseline;
- the overview asked by a client that keeps no copy (Python `requests`, as
  `bench.load`): a 200 with the whole page, from the page cache;
- the overview asked by a client that keeps the page and comes back with its
  ETag (`If-None-Match`), as a browser does for a `no-cache` page: a 304 while
  nothing on the page moved.

The --seconds of each row are split into --rounds that take turns (each
round in another order), so that whatever else the machine does meanwhile
weighs on every row alike: three rows run one after the other moved the
overview's ratio by 0.3 from one run to the next here. Prints requests,
errors, req/s, p50 and p99 per row, each against `/healthz`'s, and the lowest
and highest of the rounds' req/s ratios. A benchmark: it prints figures,
never fails.

    .venv/bin/python -m bench.warm_load [--clients 100] [--seconds 30]
        [--rounds 6] [--workers 4] [--path /dashboard]
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
from bench.load import clients_at_once, summary
from kit_sandbox import SandboxConfig, SandboxServer


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


def main() -> None:
    parser = argument_parser("bench.warm_load", __doc__, latency_ms=0, workers=4)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--path", default="/dashboard")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-warm-load-"))
    database_url = f"sqlite:///{workdir}/load.db"
    with (
        SandboxServer(SandboxConfig(latency_ms=args.latency_ms)).start() as kit,
        gunicorn(
            kit, database_url, args.workers, workdir, KIT_REQUESTS_PER_USER="1000"
        ) as app_url,
    ):
        browser = install_creator(app_url, kit, database_url)
        browser.get(f"{app_url}{args.path}", timeout=30)  # the install's flash
        cookies = browser.cookies.get_dict()
        url = f"{app_url}{args.path}"
        rows = {
            "/healthz": (f"{app_url}/healthz", False),
            args.path: (url, False),
            f"{args.path} (ETag)": (url, True),
        }
        rounds = in_rounds(rows, cookies, args)

    print(
        f"gunicorn ({args.workers} workers x 4 threads), {args.clients} clients, "
        f"{args.seconds:.0f} s per row in {args.rounds} rounds, "
        f"Kit latency {args.latency_ms} ms"
    )
    summaries = [
        summary(label, *totals(measured)) for label, measured in rounds.items()
    ]
    _, _, _, base_rate, base_p50, base_p99 = summaries[0]
    p50s = Baseline("/healthz p50", base_p50)
    p99s = Baseline("/healthz p99", base_p99)
    print(
        f"{'path':<22}{'requests':>9}{'errors':>7}  {'req/s':<28}"
        f"{'rounds':<14}{'p50':<32}p99"
    )
    for label, count, errors, rate, p50, p99 in summaries:
        print(
            f"{label:<22}{count:>9}{errors:>7}  "
            f"{rate_against(rate, base_rate, '/healthz'):<28}"
            f"{spread(rounds[label], rounds['/healthz']):<14}"
            f"{against(p50, p50s):<32}{against(p99, p99s)}"
        )


Measured = tuple[list[float], list[float], float]


def in_rounds(
    rows: dict[str, tuple[str, bool]], cookies: dict, args: argparse.Namespace
) -> dict[str, list[Measured]]:
    """Each row's (results, errors, seconds) per round; the rows take turns,
    starting each round one further along."""
    measured: dict[str, list[Measured]] = {label: [] for label in rows}
    labels = list(rows)
    seconds = args.seconds / args.rounds
    for turn in range(args.rounds):
        for label in labels[turn % len(labels) :] + labels[: turn % len(labels)]:
            url, revalidate = rows[label]
            measured[label].append(
                clients_at_once(
                    args.clients,
                    lambda results, errors, url=url, revalidate=revalidate: drive(
                        url, cookies, seconds, revalidate, results, errors
                    ),
                )
            )
    return measured


def totals(rounds: list[Measured]) -> Measured:
    results = [t for measured in rounds for t in measured[0]]
    errors = [t for measured in rounds for t in measured[1]]
    return results, errors, sum(measured[2] for measured in rounds)


def spread(rounds: list[Measured], baseline: list[Measured]) -> str:
    """The lowest and highest of the rounds' req/s ratios to the baseline's."""
    ratios = [
        (len(a[0]) + len(a[1])) / a[2] / ((len(b[0]) + len(b[1])) / b[2])
        for a, b in zip(rounds, baseline, strict=True)
    ]
    return f"{min(ratios):.2f}-{max(ratios):.2f} x"


if __name__ == "__main__":
    main()
