"""The retention jobs (beat runs them daily: app/jobs/schedule.py). The
webhook events' own prune, by WEBHOOK_EVENTS_KEPT_DAYS, is the webhooks
domain's (`app.webhooks.tasks.prune_webhook_events`).

- `prune_growth_days`: the stored days older than the overview ever reads
  (its longest period and the one before, which the comparison uses);
- `forget_lost_access`: the Kit data of a connection whose access Kit ended
  (*Reconnect needed*: most often the creator uninstalled the app in Kit,
  which the app learns at the next token refresh, as Kit sends no uninstall
  event) is deleted once it has stayed so for RECONNECT_GRACE_DAYS. The
  grace is for a grant lost otherwise (a refresh whose answer never came):
  reconnecting within it keeps the history of figures and activity. Its
  webhook endpoint is then left as a disconnect leaves it.

Both are idempotent and safe twice at once: each is a DELETE of what is
due, and a second run finds nothing left.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import ColumnElement, delete, exists, func, or_, select

from app.creator_data.erase import delete_kit_data
from app.creator_data.kept import FIGURES_KEPT_DAYS
from app.extensions import db
from app.models import ConnectionEvent, GrowthDay, KitConnection, WebhookEvent
from app.webhooks import store as webhook_store

log = logging.getLogger(__name__)


@shared_task
def prune_growth_days(now: datetime | None = None) -> int:
    """Delete the stored days older than FIGURES_KEPT_DAYS; returns how many."""
    today = (now or datetime.now(UTC)).date()
    result = db.session.execute(
        delete(GrowthDay).where(
            GrowthDay.day < today - timedelta(days=FIGURES_KEPT_DAYS)
        )
    )
    db.session.commit()
    pruned = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if pruned:
        log.info("Pruned %s stored days of growth figures", pruned)
    return pruned


def lost_access_since() -> ColumnElement[datetime]:
    """When the connection was marked *Reconnect needed*: its latest such
    event (the row's last update for a row marked without one)."""
    marked = (
        select(func.max(ConnectionEvent.created_at))
        .where(
            ConnectionEvent.connection_id == KitConnection.id,
            ConnectionEvent.kind == ConnectionEvent.NEEDS_RECONNECT,
        )
        .scalar_subquery()
    )
    return func.coalesce(marked, KitConnection.updated_at)


@shared_task
def forget_lost_access(now: datetime | None = None) -> int:
    """Delete the Kit data of the connections that have needed reconnecting
    for RECONNECT_GRACE_DAYS or more; returns how many connections."""
    days = current_app.config["RECONNECT_GRACE_DAYS"]
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    has_data = or_(
        exists().where(WebhookEvent.connection_id == KitConnection.id),
        exists().where(GrowthDay.connection_id == KitConnection.id),
    )
    due = db.session.scalars(
        select(KitConnection.id).where(
            KitConnection.status == KitConnection.NEEDS_RECONNECT,
            lost_access_since() < cutoff,
            has_data,
        )
    ).all()
    db.session.commit()
    for connection_id in due:
        erased = delete_kit_data(
            connection_id, f"Kit ended the app's access {days}+ days ago"
        )
        # As a disconnect leaves it: deliveries get 410 and store nothing, so
        # no event comes back to be deleted again; a reconnect registers anew.
        webhook_store.forget(connection_id)
        log.info(
            "Deleted the Kit data of connection %s (%s events, %s days): access "
            "lost %s+ days ago",
            connection_id,
            erased.events,
            erased.days,
            days,
        )
    return len(due)
