"""Retired grants: every token pair the app stops using is revoked at Kit.

A pair is retired when a reinstall replaces it, when it loses a race of two
installs of one account, or when the install fails after the code exchange.
`retire` writes it, encrypted, in the caller's transaction (so the pair that
replaces it and the note to revoke it commit together); the job
`app.jobs.grant_revocation.revoke_grant` then makes one attempt with `revoke_retired`,
and beat's sweep (`claim_due`) re-queues whatever is due again, so a lost
message, a dead worker or an outage only delays the revocation.

Only the row id travels through the broker, never a token. No database
transaction is open while Kit is called.

Giving up: after MAX_ATTEMPTS failed attempts (about six days of backoff) the
row is kept with `next_attempt_at` NULL and an error is logged. Kept rather
than dropped: it is the only record of a grant that may still be alive at
Kit, `flask kit connections` counts it, and setting `next_attempt_at` to a
past time makes the sweep try again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, scoped_session

from app.extensions import db
from app.kit import oauth
from app.kit.errors import KitUnavailable
from app.kit.settings import KitSettings
from app.models import RetiredGrant

log = logging.getLogger(__name__)
Outcome = Literal["revoked", "retry", "gave_up", "gone"]

MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(minutes=1)  # then x4 each attempt: 4 min, 16 min, ...
LONGEST_RETRY = timedelta(hours=24)
# How long a queued attempt has before the sweep queues the row again: the
# message may be lost (a broker restart) or its worker killed.
LEASE = timedelta(minutes=10)


def retire(
    session: Session | scoped_session[Session],
    access_token: str,
    refresh_token: str,
    reason: str,
    connection_id: int | None = None,
    *,
    queued: bool = True,
) -> RetiredGrant:
    """Add a pair to revoke to `session`; the caller commits, then queues
    `revoke_grant(row.id)`, and the sweep leaves the row alone for LEASE.

    `queued=False`: the caller queues nothing (code in `app.kit`, which does not
    know the jobs), so the row is due at once and the sweep's next run takes it.
    """
    now = datetime.now(UTC)
    grant = RetiredGrant(
        connection_id=connection_id,
        reason=reason,
        access_token=access_token,
        refresh_token=refresh_token,
        next_attempt_at=now + LEASE if queued else now,
    )
    session.add(grant)
    return grant


def revoke_pair(settings: KitSettings, access_token: str, refresh_token: str) -> None:
    """Revoke a pair at Kit: the refresh token first (it ends the grant), then
    the access token. Kit answers 200 even for a token it no longer knows, so
    doing it twice is harmless; anything else raises KitUnavailable."""
    if refresh_token:
        oauth.revoke(settings, refresh_token, "refresh_token")
    if access_token:
        oauth.revoke(settings, access_token, "access_token")


def revoke_retired(retired_id: int, settings: KitSettings) -> Outcome:
    """One attempt at revoking the retired pair `retired_id`.

    Revoked: the row is deleted. Kit unavailable: the attempt is counted and
    the next one scheduled (`retry`), or, after MAX_ATTEMPTS, abandoned
    (`gave_up`). `gone`: another run revoked it first. Reads and writes on
    connections of its own, in short transactions: nothing is held open
    across the calls to Kit, and a caller's session is never touched.
    """
    with db.engine.connect() as connection:
        row = connection.execute(
            select(
                RetiredGrant.access_token,
                RetiredGrant.refresh_token,
                RetiredGrant.next_attempt_at,
            ).where(RetiredGrant.id == retired_id)
        ).one_or_none()
    if row is None:
        return "gone"
    if row.next_attempt_at is None:
        return "gave_up"
    try:
        revoke_pair(settings, row.access_token, row.refresh_token)
    except KitUnavailable as exc:
        return _record_failure(retired_id, str(exc))
    with db.engine.begin() as connection:
        connection.execute(delete(RetiredGrant).where(RetiredGrant.id == retired_id))
    log.info("Revoked retired grant %s at Kit", retired_id)
    return "revoked"


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1 min, x4 each time,
    at most a day."""
    delay: timedelta = FIRST_RETRY * 4 ** (max(attempts, 1) - 1)
    return min(delay, LONGEST_RETRY)


def _record_failure(retired_id: int, error: str) -> Outcome:
    now = datetime.now(UTC)
    with db.engine.begin() as connection:
        # The UPDATE first: on SQLite it takes the write lock before any read.
        attempts = connection.scalar(
            update(RetiredGrant)
            .where(RetiredGrant.id == retired_id)
            .values(attempts=RetiredGrant.attempts + 1, last_error=error[:255])
            .returning(RetiredGrant.attempts)
        )
        if attempts is None:
            return "gone"
        gave_up = attempts >= MAX_ATTEMPTS
        connection.execute(
            update(RetiredGrant)
            .where(RetiredGrant.id == retired_id)
            .values(next_attempt_at=None if gave_up else now + retry_delay(attempts))
        )
    if gave_up:
        log.error(
            "Gave up revoking retired grant %s at Kit after %s attempts (%s); "
            "the row is kept: set its next_attempt_at to retry",
            retired_id,
            attempts,
            error,
        )
        return "gave_up"
    log.warning(
        "Could not revoke retired grant %s at Kit (attempt %s): %s",
        retired_id,
        attempts,
        error,
    )
    return "retry"


def claim_due(limit: int) -> list[int]:
    """The ids of up to `limit` retired pairs due for an attempt, oldest due
    first, each leased for LEASE so that the next sweep does not queue it
    again while its job is on the way.

    One UPDATE ... RETURNING: of two sweeps at once, each row goes to one.
    """
    now = datetime.now(UTC)
    due = (
        select(RetiredGrant.id)
        .where(RetiredGrant.next_attempt_at <= now)
        .order_by(RetiredGrant.next_attempt_at, RetiredGrant.id)
        .limit(limit)
        .scalar_subquery()
    )
    with db.engine.begin() as connection:
        ids = connection.scalars(
            update(RetiredGrant)
            .where(RetiredGrant.id.in_(due), RetiredGrant.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE)
            .returning(RetiredGrant.id)
        ).all()
    return sorted(ids)


def pending_counts() -> tuple[int, int]:
    """(retired pairs still to revoke, how many of them were given up), for
    operators."""
    count = select(func.count()).select_from(RetiredGrant)
    pending = db.session.scalar(count) or 0
    given_up = db.session.scalar(count.where(RetiredGrant.next_attempt_at.is_(None)))
    return pending, given_up or 0
