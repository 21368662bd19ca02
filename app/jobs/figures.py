"""Kit's finished days kept locally: a backfill per connection, and the hourly
sync that runs one for every active connection (`schedule.py`).

Both are idempotent and safe twice at once: the table's unique (connection,
day) decides what is stored, and a run asks Kit only for the days still
missing. A Kit failure is logged and stores nothing; the next sync fills the
gap.
"""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy import select

from app import stored_days
from app.extensions import db
from app.jobs import enqueue
from app.kit.errors import KitError
from app.models import KitConnection

log = logging.getLogger(__name__)


@shared_task
def backfill_figures(connection_id: int) -> int:
    """Store the connection's missing finished days of the last 90 (the
    overview's longest period), in one batch; returns how many were added (0
    when Kit failed, or the connection is gone)."""
    try:
        added = stored_days.backfill(connection_id)
    except (KitError, LookupError) as exc:
        log.warning(
            "Growth figures of connection %s not fetched: %s",
            connection_id,
            type(exc).__name__,
        )
        return 0
    if added:
        log.info(
            "Stored %s days of growth figures for connection %s", added, connection_id
        )
    return added


@shared_task
def sync_figures() -> int:
    """Queue one `backfill_figures` per active connection (yesterday's figures
    once a day has ended, and any gap); returns how many were queued."""
    connection_ids = db.session.scalars(
        select(KitConnection.id).where(KitConnection.status == KitConnection.ACTIVE)
    ).all()
    for connection_id in connection_ids:
        enqueue(backfill_figures, connection_id)
    return len(connection_ids)
