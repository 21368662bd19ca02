"""Refresh storm: 32 requests right after expiry, our app beside the common pattern.

Kit rotates refresh tokens: whoever spends one second gets `invalid_grant`.
Both sides start each round from the same situation: one Kit connection whose
stored access token has just expired (in storage and at the sandbox), and
--requests requests that need it at the same moment, with --latency-ms on
every call to Kit so that the refreshes overlap.

- our app: gunicorn with --workers workers (gunicorn.conf.py, 4 threads each)
  serves `/c/<id>/forms` (one token, one Kit call; Kit data caching off, so
  every request needs the token). One creator installed through the pages.
- the common pattern: Authlib's `OAuth2Session` with `token_endpoint` and an
  `update_token` hook that writes the new token back to storage (a JSON file),
  auto-refreshing on each request, no lock: --workers spawned processes of
  (--requests / --workers) threads, each thread loading the token from storage
  and calling `GET /v4/account`.

Counted at the sandbox: token requests that reached Kit (target 1 per round).
Failed: a non-200, a "Reconnect needed" page, or an exception (target 0).
A benchmark: it prints figures whatever they are, and exits non-zero only if
something is broken (the app did not come up, or our app missed its targets,
which do not depend on the machine's speed).

    .venv/bin/python -m bench.refresh_storm [--rounds 3] [--requests 32]
        [--workers 4] [--latency-ms 100] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from sqlalchemy import create_engine, select, update
from sqlalchemy.engine import make_url

from app.models import KitConnection
from bench.common import argument_parser, gunicorn, install_creator, real_grant
from kit_sandbox import SandboxConfig, SandboxServer

T = TypeVar("T")
OURS = "our app (claim)"
COMMON = "Authlib OAuth2Session, no lock"


@dataclass
class Round:
    """What one storm did: counted at the sandbox and by the clients."""

    token_requests: int
    api_requests: int
    failures: Counter[str] = field(default_factory=Counter)
    note: str = ""

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def storm(requests: Sequence[Callable[[], T]]) -> list[T]:
    """Run each request in a thread of its own, all released together."""
    ready = threading.Barrier(len(requests))
    outcomes: list[T] = []

    def run(request: Callable[[], T]) -> None:
        ready.wait(timeout=60)
        outcomes.append(request())  # list.append is atomic

    threads = [threading.Thread(target=run, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def tally(outcomes: list[str]) -> Counter[str]:
    return Counter(outcome for outcome in outcomes if outcome != "ok")


def counted(kit: SandboxServer) -> Counter[str]:
    """The sandbox's request counters (it has no reset that keeps the tokens:
    a round is the difference between two readings)."""
    return Counter(kit.state.stats())


# --- our app ---------------------------------------------------------------------


def page_outcome(session: requests.Session, url: str) -> str:
    """Return "ok", or why this page view failed the creator."""
    try:
        response = session.get(url, timeout=60, allow_redirects=False)
    except requests.RequestException as exc:
        return type(exc).__name__
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    if "Reconnect needed" in response.text:
        return "Reconnect needed page"
    if "<h1>Forms</h1>" not in response.text:
        return "page without its data"
    return "ok"


def run_ours(kit: SandboxServer, args: argparse.Namespace) -> list[Round]:
    """The storms on our app: gunicorn as in production, each access logged as
    `<pid> path status` so that we can tell which workers served the storm."""
    workdir = Path(tempfile.mkdtemp(prefix="refresh-storm-"))
    database_url = args.database_url or f"sqlite:///{workdir}/storm.db"
    engine = create_engine(database_url)
    rounds = []
    with gunicorn(
        kit,
        database_url,
        args.workers,
        workdir,
        access_log_format="%(p)s %(U)s %(s)s",
        # No cached Kit data: every request of the storm needs the token.
        KIT_CACHE_SECONDS="0",
        # One creator's 32 requests at once, every thread waiting on Kit: the
        # storm is about the refresh, not about the slots that would turn most
        # of them into 503 "try again" (app/kit_capacity.py).
        KIT_REQUESTS_PER_WORKER="4",
        KIT_REQUESTS_PER_USER="1000",
    ) as app_url:
        browser = install_creator(app_url, kit, database_url)
        with engine.connect() as conn:
            connection_id = conn.execute(select(KitConnection.id)).scalar_one()
        path = f"/c/{connection_id}/forms"
        for _ in range(args.rounds):
            with engine.begin() as conn:
                conn.execute(
                    update(KitConnection.__table__)
                    .where(KitConnection.__table__.c.id == connection_id)
                    .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
                )
            kit.state.expire_access_tokens()
            views = []
            for _ in range(args.requests):
                session = requests.Session()
                session.cookies.update(browser.cookies.get_dict())
                views.append(partial(page_outcome, session, f"{app_url}{path}"))
            log_start = (workdir / "access.log").stat().st_size
            before = counted(kit)
            kit.config.latency_ms = args.latency_ms
            outcomes = storm(views)
            kit.config.latency_ms = 0
            spent = counted(kit) - before
            served = served_by(workdir / "access.log", log_start, path)
            rounds.append(
                Round(
                    spent["token_requests"],
                    spent["api_requests"],
                    tally(outcomes),
                    f"served by {served} of {args.workers} workers",
                )
            )
    engine.dispose()
    return rounds


def served_by(access_log: Path, offset: int, path: str) -> int:
    """How many worker processes logged a request for `path` after `offset`
    (lines of `<pid> path status`)."""
    time.sleep(0.2)  # gunicorn logs after the response: let the last lines land
    with access_log.open() as log:
        log.seek(offset)
        return len({line.split()[0] for line in log if line.split()[1:2] == [path]})


# --- the common pattern -------------------------------------------------------------


def common_worker(
    token_file: str,
    kit_url: str,
    client_id: str,
    client_secret: str,
    threads: int,
    start: Any,
    results: Any,
) -> None:
    """One "web worker" of the common pattern, in a spawned process: `threads`
    requests, each with its own session on the token in storage."""
    storage = Path(token_file)

    def save(token: dict[str, Any], **_: Any) -> None:
        # Atomic replace, so that a reader never sees half a file.
        partial = storage.with_name(f"{os.getpid()}-{threading.get_ident()}.tmp")
        partial.write_text(json.dumps(dict(token)))
        os.replace(partial, storage)

    def request() -> str:
        start.wait(timeout=60)  # every thread of every process at once
        token = json.loads(storage.read_text())
        with OAuth2Session(
            client_id,
            client_secret,
            token=token,
            token_endpoint=f"{kit_url}/v4/oauth/token",
            token_endpoint_auth_method="client_secret_post",  # noqa: S106
            update_token=save,
        ) as session:
            try:
                response = session.get(f"{kit_url}/v4/account", timeout=60)
            except OAuthError as exc:
                return f"OAuthError {exc.error}"
            except requests.RequestException as exc:
                return type(exc).__name__
        return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"

    outcomes: list[str] = []
    pool = [
        threading.Thread(target=lambda: outcomes.append(request()))
        for _ in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put(outcomes)


def first_token(kit: SandboxServer) -> dict[str, Any]:
    """A real grant: a code from the sandbox, exchanged at its token endpoint."""
    tokens = real_grant(kit)
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_at": int(tokens.expires_at.timestamp()),
    }


def run_common(kit: SandboxServer, args: argparse.Namespace) -> list[Round]:
    storage = Path(tempfile.mkdtemp(prefix="refresh-storm-")) / "token.json"
    storage.write_text(json.dumps(first_token(kit)))
    context = multiprocessing.get_context("spawn")
    per_worker = args.requests // args.workers
    rounds = []
    for _ in range(args.rounds):
        # Expired in storage, as our app's row is; whatever refresh token the
        # last round left there is the one this round spends.
        token = json.loads(storage.read_text())
        token["expires_at"] = int(time.time()) - 60
        storage.write_text(json.dumps(token))
        kit.state.expire_access_tokens()
        start = context.Barrier(per_worker * args.workers)
        results = context.Queue()
        workers = [
            context.Process(
                target=common_worker,
                args=(
                    str(storage),
                    kit.url,
                    kit.config.client_id,
                    kit.config.client_secret or "",
                    per_worker,
                    start,
                    results,
                ),
            )
            for _ in range(args.workers)
        ]
        before = counted(kit)
        kit.config.latency_ms = args.latency_ms
        for worker in workers:
            worker.start()
        outcomes = [o for _ in workers for o in results.get(timeout=300)]
        for worker in workers:
            worker.join(timeout=30)
        kit.config.latency_ms = 0
        if len(outcomes) != per_worker * args.workers:
            raise SystemExit("the common pattern's workers did not all report")
        spent = counted(kit) - before
        rounds.append(
            Round(spent["token_requests"], spent["api_requests"], tally(outcomes))
        )
    return rounds


# --- report -------------------------------------------------------------------------


def print_table(results: dict[str, list[Round]]) -> None:
    print(f"{'pattern':<32}{'round':>6}{'token requests at Kit':>23}{'failed':>8}")
    for pattern, rounds in results.items():
        for number, result in enumerate(rounds, 1):
            print(
                f"{pattern:<32}{number:>6}{result.token_requests:>23}{result.failed:>8}"
            )
        tokens = sum(r.token_requests for r in rounds)
        failed = sum(r.failed for r in rounds)
        print(f"{pattern:<32}{'total':>6}{tokens:>23}{failed:>8}")


def main() -> None:
    parser = argument_parser(
        "bench.refresh_storm", __doc__, latency_ms=100, workers=4, database_url=True
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=32)
    args = parser.parse_args()
    if args.requests % args.workers:
        parser.error("--requests must be a multiple of --workers")

    with SandboxServer(SandboxConfig()).start() as kit:
        results = {OURS: run_ours(kit, args), COMMON: run_common(kit, args)}

    backend = make_url(args.database_url or "sqlite://").get_backend_name()
    print(
        f"Refresh storm: {args.requests} concurrent requests right after expiry, "
        f"{args.workers} workers, Kit latency {args.latency_ms} ms, database: "
        f"{backend}, rounds: {args.rounds} (target per round: 1 token request "
        f"at Kit, 0 failed)"
    )
    print_table(results)
    for pattern, rounds in results.items():
        for number, result in enumerate(rounds, 1):
            kinds = ", ".join(f"{n} x {kind}" for kind, n in result.failures.items())
            calls = f"{result.api_requests} Kit API calls"
            details = "; ".join(filter(None, (calls, result.note, kinds)))
            print(f"  {pattern}, round {number}: {details}")
    missed = [r for r in results[OURS] if r.token_requests != 1 or r.failed != 0]
    if missed:
        raise SystemExit("our app missed its targets: see the table above")


if __name__ == "__main__":
    main()
