"""How long `valid_access_token` takes: the fast path and the refresh path.

Runs the app's real code against the Kit sandbox on loopback (latency 0 unless
--latency-ms), on a fresh SQLite file or on --database-url. Prints a table,
each time against one refresh at Kit's token endpoint without the app (a
real refresh token spent over HTTP), measured in the same run; it is a
benchmark, not a test, and never fails on a slow machine.

    .venv/bin/python -m bench.token_paths [--rounds 2000] [--refresh-rounds 200]
        [--latency-ms 0] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.extensions import db
from app.install.flow import save_connection
from app.kit.resources import Account
from app.kit.tokens import valid_access_token
from app.models import KitConnection, User
from bench.common import (
    Baseline,
    against,
    argument_parser,
    bench_app,
    migrate,
    percentile,
    real_grant,
    token_refresh_seconds,
)
from kit_sandbox import SandboxConfig, SandboxServer


def main() -> None:
    parser = argument_parser(
        "bench.token_paths", __doc__, latency_ms=0, database_url=True
    )
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--refresh-rounds", type=int, default=200)
    args = parser.parse_args()

    with SandboxServer(SandboxConfig(latency_ms=args.latency_ms)).start() as kit:
        workdir = tempfile.mkdtemp()
        url = args.database_url or f"sqlite:///{workdir}/bench.db"
        app = bench_app(kit, url)
        with app.app_context():
            migrate()
            settings = app.extensions["kit_settings"]
            user = User(email="bench@example.com")
            user.set_password("not-used-here")
            db.session.add(user)
            db.session.commit()
            # A real grant from the sandbox, stored the way the callback stores it.
            tokens = real_grant(kit)
            account = Account(id="1", name="b", primary_email_address="")
            connection = save_connection(user, "", tokens, account)
            connection_id = connection.id

            fast = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                valid_access_token(connection_id, settings)
                fast.append(time.perf_counter() - started)

            at_kit = Baseline.of("one refresh at Kit", token_refresh_seconds(kit, 50))
            refreshes = kit.state.stats()["refresh_requests"]
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
            refreshes = kit.state.stats()["refresh_requests"] - refreshes
            backend = db.engine.url.get_backend_name()

    print(f"database: {backend}, Kit latency {args.latency_ms} ms; {at_kit} (p50)")
    print(f"{'path':<14}{'calls':>7}  {'p50':<36}p95")
    for name, values in (("fast (fresh)", fast), ("refresh", slow)):
        p50 = against(percentile(values, 0.5), at_kit)
        p95 = against(percentile(values, 0.95), at_kit)
        print(f"{name:<14}{len(values):>7}  {p50:<36}{p95}")
    expected = args.refresh_rounds
    print(f"refresh requests that reached Kit: {refreshes} (expected {expected})")


if __name__ == "__main__":
    main()
