"""Proactive refresh: renew tokens that expire soon, before a creator waits on it.

Run from a scheduler (`flask --app app kit refresh-due --within 30m`). Every
refresh goes through the same locked path as the web workers, so it is safe to
run beside them, and twice at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import literal, select, tuple_

from app.crypto import UTCDateTime
from app.extensions import db
from app.kit.errors import KitError, NeedsReconnect
from app.kit.settings import KitSettings
from app.kit.tokens import refresh_locked
from app.models import KitConnection

log = logging.getLogger(__name__)


def due_connections(
    within: timedelta, after: tuple[datetime, int] | None, limit: int
) -> list[tuple[datetime, int]]:
    """One batch of active connections expiring within `within`, soonest first,
    as (expires_at, id), after the `after` key of the previous batch.

    Keyset pagination on (expires_at, id) walks the (status, expires_at) index
    from the soonest expiry and stops at the cutoff, so the cost grows with the
    due connections, not with all of them (paging on id alone made the database
    walk the primary key past every connection).
    """
    cutoff = datetime.now(UTC) + within
    query = select(KitConnection.expires_at, KitConnection.id).where(
        KitConnection.status == KitConnection.ACTIVE,
        KitConnection.expires_at <= cutoff,
    )
    if after is not None:
        query = query.where(
            tuple_(KitConnection.expires_at, KitConnection.id)
            > tuple_(literal(after[0], UTCDateTime), literal(after[1]))
        )
    rows = db.session.execute(
        query.order_by(KitConnection.expires_at, KitConnection.id).limit(limit)
    )
    return [(expires_at, connection_id) for expires_at, connection_id in rows]


def refresh_due(
    settings: KitSettings, within: timedelta, batch_size: int = 200
) -> Counter[str]:
    """Refresh every due connection; count the outcomes.

    `refreshed`: this run spent the refresh token; `fresh`: another worker (or
    run) refreshed it first; `needs_reconnect`: Kit refused the grant; `failed`:
    Kit unavailable or refused our client.
    """
    summary: Counter[str] = Counter()
    leeway = int(within.total_seconds())
    after: tuple[datetime, int] | None = None
    while batch := due_connections(within, after, batch_size):
        for _, connection_id in batch:
            summary["due"] += 1
            try:
                _, refreshed = refresh_locked(
                    connection_id, settings, leeway, cap_leeway=False
                )
            except NeedsReconnect:
                summary["needs_reconnect"] += 1
            except KitError as exc:
                log.warning("Refresh of connection %s failed: %s", connection_id, exc)
                summary["failed"] += 1
            else:
                summary["refreshed" if refreshed else "fresh"] += 1
        after = batch[-1]
        db.session.remove()  # drop the batch's identity map
    return summary
