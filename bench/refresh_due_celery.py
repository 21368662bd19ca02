"""refresh-due at Kit latency: one process against Celery workers.

Builds a database of --connections connections, every one due (expiring in 10
minutes, each holding a grant of its own from a real code exchange at the
sandbox), and refreshes them all, twice, each time on an identical fresh set
(every table dropped and re-created, new grants: a refresh spends one):

* one process: `app.kit.refresh_due.refresh_due`, one connection after another
  (the loop `flask kit refresh-due` ran before the jobs);
* Celery: `app.jobs.token_refresh.enqueue_due_refreshes(report=True)` from this
  process, as `flask kit refresh-due` does now, to a real `celery -A
  app.jobs.worker worker --concurrency N` (prefork) through a real
  redis-server, waiting for every outcome.

The sandbox answers each Kit call after --latency-ms. Prints the time of
each run (against the one process's), the time per connection (against one
refresh at Kit's token endpoint without the app, measured in the same run),
the refresh requests Kit received (one per connection: anything else is a
bug) and the database recorded, the outcomes, and the speed-up.

No lock or transaction is held during a Kit call (a refresh claims its row,
commits, calls Kit, writes), so the workers overlap on SQLite too; production
runs PostgreSQL, where it is measured in `make bench`.
--database-url DROPS EVERY TABLE of that database first: give it a throwaway
one, e.g.

    pg_virtualenv -t bash -c '.venv/bin/python -m bench.refresh_due_celery \\
        --database-url "postgresql+psycopg://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${PGDATABASE}"'

Needs Debian's redis-server. A benchmark: it prints figures and fails only if
Kit did not receive exactly one refresh per connection.

    .venv/bin/python -m bench.refresh_due_celery [--connections 1000]
        [--concurrency 8] [--latency-ms 100] [--database-url ...]
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

from app.extensions import db
from app.jobs.token_refresh import enqueue_due_refreshes
from app.kit.refresh_due import refresh_due
from bench.common import (
    Baseline,
    against,
    argument_parser,
    jobs_app,
    token_refresh_seconds,
)
from bench.connections import fresh_schema, populate, real_grants, refreshed_events
from kit_sandbox import SandboxConfig, SandboxServer

WITHIN = timedelta(minutes=30)
BATCH = 200  # due ids per page, as the command's default


@dataclass
class Run:
    label: str
    seconds: float
    kit_refreshes: int  # refresh requests the sandbox received
    recorded: int  # refresh events in the database
    outcomes: Counter[str]


def fresh_set(kit: SandboxServer, connections: int) -> None:
    """A fresh schema with `connections` users, each with one connection that
    is due, holding its own grant (made with Kit's latency off)."""
    latency = kit.config.latency_ms
    kit.config.latency_ms = 0
    try:
        fresh_schema()
        grants = real_grants(kit, connections)
        populate(connections, set(range(1, connections + 1)), grants)
        db.session.remove()
    finally:
        kit.config.latency_ms = latency


def timed(kit: SandboxServer, label: str, refresh_all: Callable[[], Counter]) -> Run:
    before = kit.state.stats()["refresh_requests"]
    started = time.perf_counter()
    outcomes = refresh_all()
    seconds = time.perf_counter() - started
    after = kit.state.stats()["refresh_requests"]
    db.session.remove()
    recorded = refreshed_events()
    db.session.remove()
    return Run(label, seconds, after - before, recorded, outcomes)


def in_one_process(app: Flask) -> Callable[[], Counter]:
    def refresh_all() -> Counter:
        summary = refresh_due(app.extensions["kit_settings"], WITHIN, BATCH)
        del summary["due"]
        return summary

    return refresh_all


def with_workers() -> Counter:
    """What `flask kit refresh-due` does with REDIS_URL: every page enqueued,
    then every outcome waited for (a task that raised counts by its error)."""
    within = int(WITHIN.total_seconds())
    pages = list(enqueue_due_refreshes(within, BATCH, report=True))
    return Counter(
        outcome if isinstance(outcome, str) else type(outcome).__name__
        for page in pages
        for outcome in page.get(timeout=900, propagate=False)
    )


def main() -> None:
    parser = argument_parser(
        "bench.refresh_due_celery",
        __doc__,
        latency_ms=100,
        concurrency=8,
        database_url=True,
    )
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-refresh-celery-"))
    database_url = args.database_url or f"sqlite:///{workdir}/bench.db"
    runs = []
    with (
        SandboxServer(SandboxConfig(latency_ms=args.latency_ms)).start() as kit,
        jobs_app(kit, database_url, args.concurrency, workdir) as app,
        app.app_context(),
    ):
        at_kit = Baseline.of("one refresh at Kit", token_refresh_seconds(kit))
        fresh_set(kit, args.connections)
        runs.append(timed(kit, "one process", in_one_process(app)))
        fresh_set(kit, args.connections)
        label = f"Celery, {args.concurrency} workers"
        runs.append(timed(kit, label, with_workers))
        db.engine.dispose()

    backend = make_url(database_url).get_backend_name()
    print(
        f"refresh-due of {args.connections} due connections, Kit latency "
        f"{args.latency_ms} ms, database: {backend}, {os.cpu_count()} cores"
    )
    one = Baseline(runs[0].label, runs[0].seconds)
    print(f"{at_kit} (p50, Kit's latency included)")
    print(
        f"{'':<20}  {'all':<28}{'per connection':<40}{'Kit refreshes':>13}"
        f"{'recorded':>10}  outcomes"
    )
    for run in runs:
        outcomes = ", ".join(f"{k} {n}" for k, n in run.outcomes.most_common())
        print(
            f"{run.label:<20}  {against(run.seconds, one):<28}"
            f"{against(run.seconds / args.connections, at_kit):<40}"
            f"{run.kit_refreshes:>13}{run.recorded:>10}  {outcomes}"
        )
    print(f"speed-up: {runs[0].seconds / runs[1].seconds:.1f}x")
    wrong = [
        run.label
        for run in runs
        if run.kit_refreshes != args.connections or run.recorded != args.connections
    ]
    if wrong:
        raise SystemExit(
            f"{', '.join(wrong)}: Kit did not receive exactly one refresh "
            f"per connection ({args.connections})"
        )


if __name__ == "__main__":
    main()
