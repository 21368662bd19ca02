"""Proactive refresh: renew tokens that expire soon, before a creator waits on it.

Run from a scheduler (`flask --app app kit refresh-due --within 30m`). Every
refresh goes through the same locked path as the web workers, so it is safe to
run beside them, and twice at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.kit.errors import KitError, NeedsReconnect
from app.kit.settings import KitSettings
from app.kit.tokens import refresh_locked
from app.models import KitConnection

log = logging.getLogger(__name__)


def due_connection_ids(within: timedelta, after_id: int, limit: int) -> list[int]:
    """Active connections expiring within `within`, by id, one batch.

    Reads only the due rows (index on status, expires_at), so the cost grows
    with the due connections, not with all of them.
    """
    cutoff = datetime.now(UTC) + within
    return list(
        db.session.scalars(
            select(KitConnection.id)
            .where(
                KitConnection.status == KitConnection.ACTIVE,
                KitConnection.expires_at <= cutoff,
                KitConnection.id > after_id,
            )
            .order_by(KitConnection.id)
            .limit(limit)
        )
    )


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
    last_id = 0
    while ids := due_connection_ids(within, last_id, batch_size):
        for connection_id in ids:
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
        last_id = ids[-1]
        db.session.remove()  # drop the batch's identity map
    return summary
