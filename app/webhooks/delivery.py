"""A delivery's body, validated strictly (after its signature was checked on
the raw bytes): plain functions, no database."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.kit.times import parse_time

MAX_EVENTS = 100
MAX_DELIVERY_ID = 2**63 - 1
# Kit's ids are UUIDs and its types `noun.verb`: anything else is not Kit's
# (and a NUL or a lone surrogate would not even fit in a database column).
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
EVENT_TYPE = re.compile(r"[a-z_]{1,31}\.[a-z_]{1,32}")


class BadDelivery(ValueError):
    """The body is not a delivery as Kit documents it."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    id: int
    events: list[Event]


def parse_delivery(raw: bytes) -> Delivery:
    """`{"delivery_id": int, "events": [1..100 of {id, type, created, data}]}`,
    else BadDelivery."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadDelivery("not JSON") from None
    if not isinstance(body, dict):
        raise BadDelivery("not an object")
    delivery_id = body.get("delivery_id")
    if (
        not isinstance(delivery_id, int)
        or isinstance(delivery_id, bool)
        or not 0 <= delivery_id <= MAX_DELIVERY_ID
    ):
        raise BadDelivery("delivery_id")
    events = body.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise BadDelivery("events")
    return Delivery(delivery_id, [_event(item) for item in events])


def json_bytes(payload: dict[str, Any] | None) -> bytes:
    """A payload from Kit's delivery history, as the bytes `parse_delivery` reads."""
    return json.dumps(payload if payload is not None else {}).encode()


def _event(item: Any) -> Event:
    if not isinstance(item, dict):
        raise BadDelivery("event")
    event_id, kind, created, data = (
        item.get("id"),
        item.get("type"),
        item.get("created"),
        item.get("data"),
    )
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        raise BadDelivery("event id")
    if not isinstance(kind, str) or not EVENT_TYPE.fullmatch(kind):
        raise BadDelivery("event type")
    if not isinstance(data, dict):
        raise BadDelivery("event data")
    return Event(event_id, kind, _created_at(created), data)


def _created_at(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise BadDelivery("event created")
    try:
        return parse_time(value)
    except ValueError:
        raise BadDelivery("event created") from None
