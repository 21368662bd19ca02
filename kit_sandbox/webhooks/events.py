"""Webhooks 2.0 event types and the events themselves (KIT_PLATFORM.md §5a)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ..records import iso

#: What an endpoint may subscribe to, in Kit's order.
EVENT_TYPES: tuple[str, ...] = (
    "subscriber.created",
    "subscriber.activated",
    "subscriber.unsubscribed",
    "subscriber.bounced",
    "subscriber.complained",
    "subscriber.subscribed_to_form",
    "subscriber.added_to_sequence",
    "subscriber.sequence_completed",
    "subscriber.tag_added",
    "subscriber.tag_removed",
    "subscriber.custom_field_value_updated",
    "tag.created",
    "tag.deleted",
    "sequence.created",
    "sequence.deleted",
    "sequence.published",
    "sequence.disabled",
    "broadcast.created",
    "broadcast.sent",
    "broadcast.deleted",
    "post.published",
    "custom_field.created",
    "custom_field.deleted",
)

#: Announced but not shipped: refused with a 422 until they are. Kit names the
#: families (purchases, clicks, opens), not the types; these are our guesses.
PLANNED_EVENT_TYPES: tuple[str, ...] = (
    "purchase.created",
    "subscriber.link_clicked",
    "subscriber.email_opened",
)
PLANNED_FAMILIES = ("purchase", "click", "open")

#: The most events one delivery carries.
MAX_EVENTS_PER_DELIVERY = 100


def is_planned(event_type: str) -> bool:
    """A type from a family Kit has announced but not shipped."""
    return event_type in PLANNED_EVENT_TYPES or any(
        family in event_type for family in PLANNED_FAMILIES
    )


def new_event(event_type: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One event as delivered: ``{"id", "type", "created", "data"}``."""
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created": iso(now),
        "data": data,
    }
