"""Short row locks and refresh claims: the one place that knows how each
database locks, and how a worker says "I am talking to Kit about this row".

A row lock (`locked_connection`) lasts one short transaction and never spans a
call to Kit. Work that must span one (a refresh, a disconnect's revokes) takes a
*claim* instead: a random id and a deadline written on the row under the lock
and committed, then cleared by the same worker once Kit has answered. Others
see the claim, wait for it (bounded, polling with short reads) and re-read. A
claim past its deadline was left by a dead worker and may be taken over.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.kit.errors import RefreshBusy
from app.kit.settings import KitSettings
from app.models import KitConnection

# A claim outlives the calls it covers: each call may use its connect timeout
# and its read timeout in full (both `settings.timeout`), plus this margin.
CLAIM_MARGIN = 5.0  # seconds
POLL_FIRST, POLL_MAX = 0.02, 0.2  # seconds between reads while waiting


@dataclass(frozen=True)
class Claim:
    """A claim this worker took, and the tokens the row held when it did."""

    id: str
    access_token: str | None
    refresh_token: str | None

    def __repr__(self) -> str:
        return f"<Claim {self.id}>"  # never the tokens


def claim_seconds(settings: KitSettings, calls: int = 1) -> float:
    """How long a claim covering `calls` calls to Kit's API or revoke endpoint
    holds."""
    return calls * 2 * settings.timeout + CLAIM_MARGIN


def refresh_claim_seconds(settings: KitSettings) -> float:
    """How long a refresh's claim holds: one call to the token endpoint
    (connect within `timeout`, answer within `token_timeout`). The pair Kit
    answers with goes to disk before the database is asked to take it
    (`app.kit.pairs`), so a claim that runs out while that write waits loses
    nothing: the next claimant writes the kept pair instead of refreshing."""
    return settings.timeout + settings.token_timeout + CLAIM_MARGIN


def wait_seconds(settings: KitSettings) -> float:
    """How long a worker waits for someone else's claim before giving up:
    about one call to the token endpoint (the longest a claim's call can
    take), so a page never waits much longer than Kit would."""
    return settings.token_timeout + 1.0


def live_claim(connection: KitConnection, now: datetime | None = None) -> str | None:
    """The id of the row's claim if it is still running, else None."""
    until = connection.refresh_claimed_until
    if connection.refresh_claim and until and until > (now or datetime.now(UTC)):
        return connection.refresh_claim
    return None


def take_claim(connection: KitConnection, seconds: float) -> Claim:
    """Claim the row locked by `locked_connection` (the caller commits)."""
    claim = Claim(
        secrets.token_urlsafe(16), connection.access_token, connection.refresh_token
    )
    connection.refresh_claim = claim.id
    connection.refresh_claimed_until = datetime.now(UTC) + timedelta(seconds=seconds)
    return claim


def release_claim_in(connection: KitConnection, claim: Claim) -> bool:
    """Clear the claim on a locked row if it is still `claim`; says whether it was."""
    if connection.refresh_claim != claim.id:
        return False
    connection.refresh_claim = None
    connection.refresh_claimed_until = None
    return True


def release_claim(connection_id: int, claim: Claim) -> None:
    with locked_connection(connection_id) as (_, connection):
        release_claim_in(connection, claim)


def wait_for_claim(connection_id: int, claim_id: str, deadline: float) -> None:
    """Wait until the claim `claim_id` is released, replaced or past its time.

    Short reads on a connection of its own, returned to the pool between them:
    a waiter holds no lock and no connection while it sleeps. Raises
    `RefreshBusy` at `deadline` (a `time.monotonic()` value).
    """
    pause = POLL_FIRST
    while True:
        with db.engine.connect() as conn:
            row = conn.execute(
                select(
                    KitConnection.refresh_claim, KitConnection.refresh_claimed_until
                ).where(KitConnection.id == connection_id)
            ).one_or_none()
        if row is None or row.refresh_claim != claim_id:
            return
        if row.refresh_claimed_until is None or row.refresh_claimed_until <= (
            datetime.now(UTC)
        ):
            return
        if time.monotonic() + pause > deadline:
            raise RefreshBusy(
                f"Connection {connection_id}'s token is being refreshed by another "
                "worker; try again in a moment"
            )
        time.sleep(pause)
        pause = min(pause * 2, POLL_MAX)


@contextmanager
def locked_connection(connection_id: int) -> Iterator[tuple[Session, KitConnection]]:
    """A short transaction of its own holding the connection's row lock; commits
    on a normal exit, rolls back on an exception. Never call Kit inside it.

    PostgreSQL: `SELECT ... FOR UPDATE`. SQLite has no row locks: `BEGIN
    IMMEDIATE` takes the database's write lock up front (a deferred transaction
    that upgrades later can deadlock and fail with "database is locked").
    Its own session, so it never commits (or is committed by) what the caller
    has pending.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        with Session(engine, expire_on_commit=False) as session, session.begin():
            connection = session.execute(
                select(KitConnection)
                .where(KitConnection.id == connection_id)
                .with_for_update()
            ).scalar_one_or_none()
            if connection is None:
                raise LookupError(f"no Kit connection {connection_id}")
            yield session, connection
        return

    with engine.connect() as raw:
        # Autocommit at the driver, so that our BEGIN IMMEDIATE is the transaction.
        raw = raw.execution_options(isolation_level="AUTOCOMMIT")
        raw.exec_driver_sql("BEGIN IMMEDIATE")
        session = Session(bind=raw, expire_on_commit=False, autoflush=False)
        try:
            connection = session.get(KitConnection, connection_id)
            if connection is None:
                raise LookupError(f"no Kit connection {connection_id}")
            yield session, connection
            session.flush()
            raw.exec_driver_sql("COMMIT")
        except BaseException:
            raw.exec_driver_sql("ROLLBACK")
            raise
        finally:
            session.close()
