"""How long `valid_access_token` takes: the fast path and the refresh path.

Runs the app's real code against the Kit sandbox on loopback (latency 0 unless
--latency-ms), on a fresh SQLite file or on --database-url. Prints a table; it
is a benchmark, not a test, and never fails on a slow machine.

    .venv/bin/python bench/token_paths.py [--rounds 2000] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import update  # noqa: E402

from app.extensions import db  # noqa: E402
from app.install.flow import save_connection  # noqa: E402
from app.kit.tokens import valid_access_token  # noqa: E402
from app.models import KitConnection, User  # noqa: E402
from bench.common import bench_app, real_grant  # noqa: E402
from kit_sandbox import SandboxConfig, SandboxServer  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--refresh-rounds", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    kit = SandboxServer(SandboxConfig(latency_ms=args.latency_ms)).start()
    workdir = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    app = bench_app(kit, url)
    with app.app_context():
        flask_migrate.upgrade()
        settings = app.extensions["kit_settings"]
        user = User(email="bench@example.com")
        user.set_password("not-used-here")
        db.session.add(user)
        db.session.commit()
        # A real grant from the sandbox, stored the way the callback stores it.
        tokens = real_grant(kit, settings)
        connection = save_connection(
            user, "", tokens, {"account": {"id": 1, "name": "b"}}
        )
        connection_id = connection.id

        fast = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            valid_access_token(connection_id, settings)
            fast.append(time.perf_counter() - started)

        slow = []
        for _ in range(args.refresh_rounds):
            db.session.execute(
                update(KitConnection).values(
                    expires_at=datetime.now(UTC) - timedelta(seconds=1)
                )
            )
            db.session.commit()
            started = time.perf_counter()
            valid_access_token(connection_id, settings)
            slow.append(time.perf_counter() - started)
        refreshes = kit.state.stats()["refresh_requests"]
        backend = db.engine.url.get_backend_name()
    kit.stop()

    print(f"database: {backend}, Kit latency {args.latency_ms} ms")
    print(f"{'path':<14}{'calls':>7}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for name, values in (("fast (fresh)", fast), ("refresh", slow)):
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        mean = statistics.mean(values) * 1000
        print(f"{name:<14}{len(values):>7}{p50:>9.3f}{p95:>9.3f}{mean:>9.3f}")
    expected = args.refresh_rounds
    print(f"refresh requests that reached Kit: {refreshes} (expected {expected})")


if __name__ == "__main__":
    main()
