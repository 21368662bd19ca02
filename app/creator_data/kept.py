"""What the app keeps about one connection's Kit account, and for how long:
counted from the tables, the periods read from the real settings, so the
settings page and the notice before consent never say what the code does
not do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import ConnectionEvent, GrowthDay, WebhookEndpoint, WebhookEvent
from app.stored_days import GROWTH_DAYS

# The stored days kept: the overview's longest period and the one before,
# which its comparison reads, plus a day either side for the time zones.
FIGURES_KEPT_DAYS = 2 * GROWTH_DAYS + 2


@dataclass(frozen=True)
class Periods:
    """How long each kind of data is kept, from the configuration."""

    events_days: int  # WEBHOOK_EVENTS_KEPT_DAYS, by arrival
    figures_days: int  # the stored days: the overview's longest period
    cache_seconds: int  # KIT_CACHE_SECONDS: Kit's answers
    reconnect_grace_days: int  # RECONNECT_GRACE_DAYS: after access is lost

    @classmethod
    def of(cls, config: Any) -> Periods:
        return cls(
            events_days=config["WEBHOOK_EVENTS_KEPT_DAYS"],
            figures_days=FIGURES_KEPT_DAYS,
            cache_seconds=config["KIT_CACHE_SECONDS"],
            reconnect_grace_days=config["RECONNECT_GRACE_DAYS"],
        )


@dataclass(frozen=True)
class Kept:
    """What is stored for a connection right now."""

    events: int
    oldest_event: datetime | None  # when it happened at Kit
    newest_event: datetime | None
    days: int
    first_day: date | None
    last_day: date | None
    history: int
    endpoint_status: str | None  # None: no webhook endpoint (yet)


def kept(connection_id: int) -> Kept:
    """Counts and spans, one aggregate query per table; the events' reads the
    feed's index on (connection, occurred_at) for this connection only."""
    events, oldest, newest = db.session.execute(
        select(
            func.count(),
            func.min(WebhookEvent.occurred_at),
            func.max(WebhookEvent.occurred_at),
        ).where(WebhookEvent.connection_id == connection_id)
    ).one()
    days, first, last = db.session.execute(
        select(func.count(), func.min(GrowthDay.day), func.max(GrowthDay.day)).where(
            GrowthDay.connection_id == connection_id
        )
    ).one()
    history = db.session.scalar(
        select(func.count()).where(ConnectionEvent.connection_id == connection_id)
    )
    endpoint = db.session.scalar(
        select(WebhookEndpoint.status).where(
            WebhookEndpoint.connection_id == connection_id
        )
    )
    return Kept(
        events=events,
        oldest_event=oldest,
        newest_event=newest,
        days=days,
        first_day=first,
        last_day=last,
        history=history or 0,
        endpoint_status=endpoint,
    )
