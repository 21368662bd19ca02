"""The due-sweep: renew tokens that expire soon, before a creator waits on them.

The due query and the refresh of one connection live here; the jobs in
`app.jobs.token_refresh` (beat's "refresh-due", and `flask --app app kit refresh-due`)
fan them out, one task per due connection. Every refresh goes through the same
claim as the web workers (`app.kit.tokens.refresh_or_wait`), so it is safe beside
them, and twice at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import literal, select, tuple_

from app.crypto import UTCDateTime
from app.extensions import db
from app.kit.errors import KitError, NeedsReconnect
from app.kit.freshness import Want
from app.kit.settings import KitSettings
from app.kit.tokens import refresh_or_wait
from app.models import KitConnection

log = logging.getLogger(__name__)
Outcome = Literal["refreshed", "fresh", "needs_reconnect", "failed"]


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


def due_batches(within: timedelta, batch_size: int) -> Iterator[list[int]]:
    """The ids of the active connections expiring within `within`, a batch at a
    time, soonest first."""
    after: tuple[datetime, int] | None = None
    while batch := due_connections(within, after, batch_size):
        yield [connection_id for _, connection_id in batch]
        after = batch[-1]
        db.session.remove()  # drop the batch's identity map


def refresh_connection(
    connection_id: int, settings: KitSettings, within: timedelta
) -> Outcome:
    """Refresh one connection unless it is valid for longer than `within`.

    Returns the outcome: `refreshed` (this call spent the refresh token),
    `fresh` (another worker, or run, refreshed it first), `needs_reconnect`
    (Kit refused the grant, or it was already marked) or `failed` (Kit
    unavailable or refusing our client, or another worker's refresh outlasted
    the wait; the stored tokens are untouched).
    """
    try:
        _, refreshed = refresh_or_wait(
            connection_id,
            settings,
            Want(int(within.total_seconds()), cap_leeway=False),
        )
    except NeedsReconnect:
        return "needs_reconnect"
    except KitError as exc:
        log.warning("Refresh of connection %s failed: %s", connection_id, exc)
        return "failed"
    return "refreshed" if refreshed else "fresh"


def refresh_due(
    settings: KitSettings, within: timedelta, batch_size: int = 200
) -> Counter[str]:
    """Refresh every due connection in this process, one after another; count
    `due` and the outcomes of `refresh_connection`.

    The jobs spread the same work over the workers; this loop is the one-process
    baseline of `bench.refresh_due_scale`.
    """
    summary: Counter[str] = Counter()
    for batch in due_batches(within, batch_size):
        summary["due"] += len(batch)
        summary.update(
            refresh_connection(connection_id, settings, within)
            for connection_id in batch
        )
    return summary
