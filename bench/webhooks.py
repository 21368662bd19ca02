"""Webhook deliveries: signed, verified and stored, per second under gunicorn.

One creator installs through the app's pages; its Webhooks 2.0 endpoint is
registered at the sandbox (the job run by this process: no Celery worker runs
here), and the bench reads its signing secret from the sandbox (as Kit knows
it). --clients threads then POST signed deliveries to
the app's receiver for --seconds each, as Kit would: first `/healthz` (the
baseline), then deliveries of 1 event, then deliveries of 100 events (one
type, Kit's maximum). One delivery in ten is sent twice (Kit's retries resend
the same events): the database must end with every event once.

Printed per kind: requests per second, as a multiple of `/healthz`'s, events
per second, p50 / p99 acknowledgement time, each against `/healthz`'s from the
same clients, and the events lost or stored twice
(counted in the app's database against what was sent). gunicorn with
gunicorn.conf.py, --workers workers of 4 threads, SQLite unless
--database-url. A benchmark: it prints figures whatever they are.

    .venv/bin/python -m bench.webhooks [--seconds 10] [--clients 16]
        [--workers 2] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select

from app.models import WebhookEndpoint, WebhookEvent
from app.webhooks.tasks import register_endpoint
from bench.common import (
    Baseline,
    against,
    argument_parser,
    bench_app,
    gunicorn,
    percentile,
    rate_against,
)
from bench.slow_kit import add_creators, sign_in_and_install
from kit_sandbox import SandboxConfig, SandboxServer


def delivery(delivery_id: int, size: int) -> tuple[bytes, list[str]]:
    """A delivery of `size` subscriber.created events: its body and event ids."""
    now = datetime.now(UTC).isoformat()
    ids = [str(uuid.uuid4()) for _ in range(size)]
    events = [
        {
            "id": event_id,
            "type": "subscriber.created",
            "created": now,
            "data": {
                "subscriber": {
                    "id": delivery_id * 1000 + n,
                    "email_address": f"reader{delivery_id}-{n}@example.com",
                    "state": "active",
                }
            },
        }
        for n, event_id in enumerate(ids)
    ]
    body = json.dumps({"delivery_id": delivery_id, "events": events}).encode()
    return body, ids


def signed(body: bytes, secret: str) -> dict[str, str]:
    """KIT_PLATFORM.md 5a: t=<unix seconds>,v1=HMAC-SHA256(secret, "t.body")."""
    t = str(int(time.time()))
    mac = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Kit-Signature": f"t={t},v1={mac.hexdigest()}",
    }


class Run:
    """What one kind of request did: latencies, statuses, events sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.failures = 0
        self.sent_events: set[str] = set()


def hammer(
    url: str, seconds: float, clients: int, size: int, secret: str, ids: Iterator[int]
) -> Run:
    """`clients` threads POSTing (or, with size 0, GETting) for `seconds`."""
    run = Run()
    deadline = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            if size == 0:
                started = time.perf_counter()
                answer = session.get(url, timeout=30)
                elapsed = time.perf_counter() - started
                sent: list[str] = []
                resend = False
            else:
                delivery_id = next(ids)
                body, sent = delivery(delivery_id, size)
                resend = delivery_id % 10 == 0
                started = time.perf_counter()
                answer = session.post(
                    url, data=body, headers=signed(body, secret), timeout=30
                )
                elapsed = time.perf_counter() - started
                if resend and answer.status_code == 200:
                    again = session.post(
                        url, data=body, headers=signed(body, secret), timeout=30
                    )
                    resend = again.status_code == 200
            with run.lock:
                if answer.status_code == 200:
                    run.latencies.append(elapsed)
                    run.sent_events.update(sent)
                else:
                    run.failures += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run


def main() -> None:
    parser = argument_parser(__name__, __doc__, workers=2, database_url=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="webhooks-"))
    database_url = args.database_url or f"sqlite:///{workdir}/webhooks.db"
    results: dict[str, Run] = {}
    keys = Fernet.generate_key().decode()
    with (
        SandboxServer(SandboxConfig()).start() as kit,
        gunicorn(
            kit, database_url, args.workers, workdir, TOKEN_ENCRYPTION_KEYS=keys
        ) as app_url,
    ):
        [creator] = add_creators(database_url, 1)
        sign_in_and_install(app_url, *creator)
        # The install queued the registration for a Celery worker (REDIS_URL is
        # set); none runs here, so this process does the job, as a worker would.
        worker = bench_app(
            kit, database_url, TOKEN_ENCRYPTION_KEYS=keys, PUBLIC_BASE_URL=app_url
        )
        with worker.app_context():
            register_endpoint(1, force=True)
        engine = create_engine(database_url)
        with engine.connect() as conn:
            key = conn.execute(
                select(WebhookEndpoint.key).where(
                    WebhookEndpoint.kit_endpoint_id.is_not(None)
                )
            ).scalar()
        if key is None:
            raise SystemExit("no webhook endpoint was registered at the sandbox")
        [endpoint] = kit.state.webhooks.endpoints.values()
        secret = endpoint.secret
        receiver = f"{app_url}/webhooks/kit/{key}"
        ids = iter(range(1, 10**9))
        results["/healthz"] = hammer(
            f"{app_url}/healthz", args.seconds, args.clients, 0, secret, ids
        )
        for size in (1, 100):
            results[f"{size} event{'s' if size > 1 else ''}"] = hammer(
                receiver, args.seconds, args.clients, size, secret, ids
            )
        with engine.connect() as conn:
            stored = conn.execute(
                select(WebhookEvent.event_id, func.count()).group_by(
                    WebhookEvent.event_id
                )
            ).all()
        engine.dispose()

    counts = dict(stored)
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(
        f"Signed deliveries to the receiver, {args.clients} clients x "
        f"{args.seconds:.0f} s each, gunicorn {args.workers}x4, {backend}"
    )
    healthz = results["/healthz"]
    baseline = len(healthz.latencies) / args.seconds
    p50s = Baseline.of("/healthz p50", healthz.latencies, 0.5)
    p99s = Baseline.of("/healthz p99", healthz.latencies, 0.99)
    print(
        f"{'':<10} {'req/s':<28} {'events/s':>9} {'p50':<32} {'p99':<32} "
        f"{'failed':>6} {'lost':>5} {'twice':>5}"
    )
    for name, run in results.items():
        rate = len(run.latencies) / args.seconds
        lost = sum(1 for e in run.sent_events if e not in counts)
        twice = sum(1 for e in run.sent_events if counts.get(e, 0) > 1)
        events = len(run.sent_events) / args.seconds
        p50 = against(percentile(run.latencies, 0.5), p50s)
        p99 = against(percentile(run.latencies, 0.99), p99s)
        print(
            f"{name:<10} {rate_against(rate, baseline, '/healthz'):<28} "
            f"{events:>9.0f} {p50:<32} {p99:<32} "
            f"{run.failures:>6} {lost:>5} {twice:>5}"
        )


if __name__ == "__main__":
    main()
