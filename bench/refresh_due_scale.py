"""`refresh-due` over many connections: the cost follows the due ones, not all.

For each size in --sizes, builds a fresh database (migrated with the real
migrations), bulk-inserts that many users and connections of which --due-percent
expire within the window (spread evenly over the ids) and the rest in 30 days,
then times `refresh_due(settings, 30 minutes)` against the Kit sandbox
(latency 0) and counts the SQL statements it sends to the database. At a fixed
percentage the due count grows with the total, so one more run keeps the due
count (--fixed-due) on the largest size: that row tells the two apart.

"find" is the time spent in the query that finds the due ids (batches of
200), and the query's plan is printed: it shows whether that query reads only
the due rows (the status/expires_at index) or walks the primary key. The time
per due connection and "find" are told against one refresh at Kit's token
endpoint without the app (a real refresh token spent over HTTP), measured in
the same run.

Tokens are real: every row holds ciphertext the app decrypts. The not-due rows
share one encrypted pair (encrypting 100,000 pairs would only slow the set-up);
each due row holds a pair from a code exchange of its own at the sandbox, since
refreshing spends it.

Statements are what reaches the driver's cursor. On SQLite that includes the
`BEGIN IMMEDIATE` / `COMMIT` of each row lock; on PostgreSQL transactions are
begun and committed by the driver, so they are not counted.

A benchmark: it prints figures and fails only if a due connection was not
refreshed. --database-url runs it on that database: it DROPS EVERY TABLE there
first, so give it a throwaway one, e.g.

    pg_virtualenv bash -c '.venv/bin/python -m bench.refresh_due_scale \\
        --database-url "postgresql+psycopg://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${PGDATABASE}"'

    .venv/bin/python -m bench.refresh_due_scale [--sizes 10000,100000]
        [--due-percent 1] [--fixed-due 100] [--database-url ...]
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url

from app.extensions import db
from app.kit import refresh_due as refresh_module
from app.kit.refresh_due import due_connections, refresh_due
from bench.common import (
    Baseline,
    against,
    argument_parser,
    bench_app,
    token_refresh_seconds,
)
from bench.connections import fresh_schema, populate, real_grants, refreshed_events
from kit_sandbox import SandboxConfig, SandboxServer

WITHIN = timedelta(minutes=30)
# Only due_connections' batch query orders connections by expiry.
FINDER = "ORDER BY kit_connections.expires_at"


@dataclass
class Run:
    connections: int
    due: int
    refreshed: int
    seconds: float
    statements: Counter[str]
    find_seconds: float
    plan: str

    @property
    def total_statements(self) -> int:
        return sum(self.statements.values())


def kind(statement: str) -> str:
    """A statement's kind for the breakdown: verb, and the table it writes."""
    words = statement.split()
    verb = words[0].upper()
    if verb == "BEGIN":
        return " ".join(words[:2]).upper()
    if verb == "SELECT" and FINDER in statement:
        return "SELECT due ids"
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    return verb


def measure(
    kit: SandboxServer, size: int, due_count: int, database_url: str | None
) -> Run:
    workdir = tempfile.mkdtemp(prefix="refresh-due-")
    app: Flask = bench_app(kit, database_url or f"sqlite:///{workdir}/bench.db")
    with app.app_context():
        fresh_schema()
        settings = app.extensions["kit_settings"]
        step = size // due_count
        due_ids = set(range(step, step * due_count + 1, step))
        populate(size, due_ids, real_grants(kit, len(due_ids)))
        db.session.remove()

        statements: Counter[str] = Counter()
        finder: list[tuple[str, Any]] = []
        find_seconds = 0.0

        def count(
            conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any
        ) -> None:
            statements[kind(statement)] += 1
            if FINDER in statement and not finder:
                finder.append((statement, parameters))

        def timed_finder(*args: Any, **kwargs: Any) -> list[int]:
            # The real query, timed with its fetch (a cursor event would miss
            # the rows SQLite's driver fetches after execute returns).
            nonlocal find_seconds
            started = time.perf_counter()
            try:
                return due_connections(*args, **kwargs)
            finally:
                find_seconds += time.perf_counter() - started

        event.listen(db.engine, "before_cursor_execute", count)
        refresh_module.due_connections = timed_finder
        try:
            started = time.perf_counter()
            summary = refresh_due(settings, WITHIN)
            seconds = time.perf_counter() - started
        finally:
            refresh_module.due_connections = due_connections
            event.remove(db.engine, "before_cursor_execute", count)

        recorded = refreshed_events()
        if summary["refreshed"] != len(due_ids) or recorded != len(due_ids):
            raise SystemExit(
                f"{size} connections: {len(due_ids)} due, but refresh_due says "
                f"{dict(summary)} and {recorded} were recorded as refreshed"
            )
        plan = query_plan(*finder[0])
        db.session.remove()
        db.engine.dispose()
    return Run(
        size,
        summary["due"],
        summary["refreshed"],
        seconds,
        statements,
        find_seconds,
        plan,
    )


def query_plan(statement: str, parameters: Any) -> str:
    """How the database runs the first due-ids query, with its own parameters
    (explained after the run: the planner statistics have not changed)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "; ".join(str(row[-1]) for row in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        nodes = [row[0].split("(cost")[0] for row in rows if "(cost" in row[0]]
        return " > ".join(node.replace("->", "").strip() for node in nodes)


def planned_runs(
    sizes: list[int], due_percent: float, fixed_due: int
) -> list[tuple[int, int]]:
    """(connections, due) pairs: each size at --due-percent, then the largest
    size with only --fixed-due due, which tells "grows with the due ones"
    apart from "grows with all of them" (at a fixed percentage both grow)."""
    runs = [(size, max(1, round(size * due_percent / 100))) for size in sizes]
    if fixed_due and (max(sizes), fixed_due) not in runs:
        runs.append((max(sizes), fixed_due))
    return runs


def main() -> None:
    parser = argument_parser("bench.refresh_due_scale", __doc__, database_url=True)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--due-percent", type=float, default=1.0)
    parser.add_argument(
        "--fixed-due",
        type=int,
        default=100,
        help="also run the largest size with this many due (0: don't)",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    with SandboxServer(SandboxConfig(latency_ms=0)).start() as kit:
        at_kit = Baseline.of("one refresh at Kit", token_refresh_seconds(kit, 50))
        runs = [
            measure(kit, size, due, args.database_url)
            for size, due in planned_runs(sizes, args.due_percent, args.fixed_due)
        ]

    backend = make_url(args.database_url or "sqlite://").get_backend_name()
    print(
        f"refresh_due(within=30 min), Kit latency 0 ms, database: {backend}; "
        f"find = time in the due-ids queries; {at_kit} (p50)"
    )
    print(
        f"{'connections':>11}{'due':>7}{'refreshed':>10}  {'per due':<34}"
        f"{'find':<34}{'statements':>10}{'per due':>9}"
    )
    for run in runs:
        print(
            f"{run.connections:>11}{run.due:>7}{run.refreshed:>10}  "
            f"{against(run.seconds / run.due, at_kit):<34}"
            f"{against(run.find_seconds, at_kit):<34}{run.total_statements:>10}"
            f"{run.total_statements / run.due:>9.2f}"
        )
    for run in runs:
        kinds = ", ".join(
            f"{kind} {n / run.due:.2f}" for kind, n in run.statements.most_common()
        )
        print(f"  {run.connections}/{run.due}: per due connection: {kinds}")
        print(f"  {run.connections}/{run.due}: due-ids query plan: {run.plan}")


if __name__ == "__main__":
    main()
