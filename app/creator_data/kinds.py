"""The event kinds a creator does not want kept, per connection.

Stored on the connection (`events_not_kept`); the webhook receiver reads it
with the endpoint (`app.webhooks.store.receiver`) and acknowledges those
deliveries without storing them. Switching a kind off also deletes the
events of that kind already kept: "do not keep" covers what is there.

The subscription at Kit is left as it is, on purpose: the receiver's check
is needed anyway (deliveries already queued or retried at Kit arrive after
the switch), the hourly upkeep puts back any event missing from the
endpoint's list (`app.webhooks.tasks._repair`), and a switch that had to
reach Kit would fail whenever Kit does, or the grant is lost, while this one
always takes effect at once, and turning a kind back on needs no call.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update

from app.extensions import db
from app.kit_cache import invalidate
from app.models import KitConnection, WebhookEvent
from app.webhooks.feed_words import EVENTS, LEGACY_EVENTS, SUBSCRIBER_EVENTS

# Every kind a creator can switch: Webhooks 2.0's, then the legacy webhooks'
# (purchases, link clicks: `app.webhooks.legacy`), by the feed's words.
LABELS = {name: words[0] for name, words in (SUBSCRIBER_EVENTS | LEGACY_EVENTS).items()}
KINDS = (*EVENTS, *LEGACY_EVENTS)


@dataclass(frozen=True)
class Kind:
    type: str  # Kit's name, e.g. subscriber.tag_added
    label: str  # the activity filter's words, e.g. "Tagged"
    kept: bool


def kinds(connection: KitConnection) -> list[Kind]:
    """Every kind the app subscribes to at Kit, in the feed's order."""
    off = connection.kinds_not_kept
    return [Kind(name, LABELS[name], name not in off) for name in KINDS]


def set_not_kept(connection_id: int, not_kept: set[str]) -> int:
    """Keep every subscribed kind but `not_kept` (unknown names are ignored);
    deletes the stored events of the kinds switched off. Returns how many
    events were deleted."""
    off = sorted(set(KINDS) & not_kept)
    db.session.execute(
        update(KitConnection)
        .where(KitConnection.id == connection_id)
        .values(events_not_kept=" ".join(off))
    )
    deleted = 0
    if off:
        result = db.session.execute(
            delete(WebhookEvent).where(
                WebhookEvent.connection_id == connection_id,
                WebhookEvent.type.in_(off),
            )
        )
        deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    db.session.commit()
    if deleted:
        invalidate(connection_id)  # the activity page's kept copies
    return deleted
