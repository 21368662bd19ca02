""" "Delete my data": the Kit data kept for one connection, deleted now; the
connection stays (its tokens, its history, its settings), so the app keeps
working and starts keeping again from here.

Deleted: the webhook events (they carry subscriber addresses), the stored
days' figures, and Kit's cached answers (made unreachable at once: the
connection's cache generation moves, so no page or answer cached before is
served again, and they expire on their own). The hourly sync fetches the
last 90 days' figures again, since the overview is built on them; they are
account totals, with no subscriber in them. A disconnect deletes the same
data and ends the access too (`app.install.disconnect`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete

from app.extensions import db
from app.kit_cache import invalidate
from app.models import ConnectionEvent, GrowthDay, WebhookEvent


@dataclass(frozen=True)
class Erased:
    events: int
    days: int


def delete_kit_data(connection_id: int, reason: str) -> Erased:
    """Delete the connection's stored Kit data in one transaction, note it in
    the connection's history (`reason`: who asked), drop its cached answers."""
    events = db.session.execute(
        delete(WebhookEvent).where(WebhookEvent.connection_id == connection_id)
    )
    days = db.session.execute(
        delete(GrowthDay).where(GrowthDay.connection_id == connection_id)
    )
    erased = Erased(
        int(events.rowcount or 0),  # type: ignore[attr-defined]
        int(days.rowcount or 0),  # type: ignore[attr-defined]
    )
    db.session.add(
        ConnectionEvent(
            connection_id=connection_id,
            kind=ConnectionEvent.DATA_DELETED,
            reason=f"{reason}: {erased.events} events, {erased.days} days of figures",
        )
    )
    db.session.commit()
    invalidate(connection_id)
    return erased
