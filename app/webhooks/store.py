"""A delivery from Kit, checked and stored: plain functions, no request.

`parse_delivery` validates the JSON strictly (after the signature was
checked on the raw bytes); `store_events` inserts each event once, with the
dialect's INSERT ... ON CONFLICT DO NOTHING on the unique (connection, event
id), so a redelivery, or two workers storing the same delivery at once,
insert one row. The endpoint rows (one per connection) are read and written
here too.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import KitConnection, WebhookEndpoint, WebhookEvent

MAX_EVENTS = 100
MAX_DATA = 16 * 1024  # characters of one event's `data` kept as it came
MAX_DELIVERY_ID = 2**63 - 1
RELATED = ("form", "tag", "sequence", "custom_field")
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
    return Event(event_id, kind, _moment(created), data)


def _moment(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise BadDelivery("event created")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadDelivery("event created") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00
        raise BadDelivery("event created") from None


# --- storing -------------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    """A display string from Kit's data, fit for any database column."""
    if not isinstance(value, str):
        return ""
    clean = value.replace("\x00", "").encode("utf-8", "replace").decode()
    return clean[:limit]


def _row(connection_id: int, delivery_id: int, event: Event, now: datetime) -> dict:
    data = event.data
    subscriber = data.get("subscriber")
    email = subscriber.get("email_address") if isinstance(subscriber, dict) else None
    subject = ""
    for name in RELATED:
        related = data.get(name)
        if isinstance(related, dict) and isinstance(related.get("name"), str):
            subject = related["name"]
            break
    # ASCII: escapes lone surrogates, which no database column takes raw.
    try:
        text = json.dumps(data, separators=(",", ":"))
    except (ValueError, RecursionError):
        text = "x" * (MAX_DATA + 1)
    if len(text) > MAX_DATA:
        # Bounded: what the feed reads, not whatever else came along.
        kept = {k: data[k] for k in ("subscriber", *RELATED) if k in data}
        try:
            text = json.dumps(kept | {"truncated": True})
        except (ValueError, RecursionError):
            text = ""
        if not text or len(text) > MAX_DATA:
            text = json.dumps({"truncated": True})
    return {
        "connection_id": connection_id,
        "event_id": event.id,
        "delivery_id": delivery_id,
        "type": event.type,
        "occurred_at": event.created,
        "received_at": now,
        "subscriber_email": _text(email, 254),
        "subject": _text(subject, 255),
        "data": text,
    }


def insert_events(connection_id: int, delivery: Delivery, now: datetime) -> int:
    """Insert the delivery's events not stored yet (no commit); returns how
    many were new."""
    rows: dict[str, dict] = {}
    for event in delivery.events:
        rows.setdefault(event.id, _row(connection_id, delivery.id, event, now))
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(WebhookEvent.__table__)
        .on_conflict_do_nothing(index_elements=["connection_id", "event_id"])
        # The rows inserted, counted by RETURNING: rowcount is not reliable
        # for a multi-row INSERT on every driver.
        .returning(WebhookEvent.__table__.c.id)
    )
    # The rows as parameters of one statement (SQLAlchemy sends them as
    # multi-row VALUES batches): compiled once and cached, where a statement
    # with the 100 rows in its VALUES would be compiled for every delivery.
    connection = db.session.connection()
    return len(connection.execute(statement, list(rows.values())).all())


def store_delivery(endpoint_id: int, connection_id: int, delivery: Delivery) -> int:
    """Store the events and note the delivery in one transaction; returns how
    many events were new."""
    now = datetime.now(UTC)
    try:
        stored = insert_events(connection_id, delivery, now)
        db.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(last_delivery_at=now)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return stored


# --- the endpoint rows ---------------------------------------------------------------


@dataclass(frozen=True)
class Receiver:
    """What the receiving view needs of an endpoint, secrets decrypted."""

    id: int
    connection_id: int
    gone: bool
    secrets: list[str]


def receiver(key: str, now: datetime) -> Receiver | None:
    """The endpoint named by `key` in its URL, or None. `gone`: its connection
    was disconnected (or its grant revoked). The previous secret counts only
    while its window is open."""
    row = db.session.execute(
        select(WebhookEndpoint, KitConnection.status)
        .join(KitConnection, KitConnection.id == WebhookEndpoint.connection_id)
        .where(WebhookEndpoint.key == key)
    ).one_or_none()
    if row is None:
        return None
    endpoint, connection_status = row
    gone = (
        endpoint.status == WebhookEndpoint.GONE
        or connection_status == KitConnection.REVOKED
    )
    keys = [endpoint.secret or ""]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        keys.append(endpoint.previous_secret)
    return Receiver(endpoint.id, endpoint.connection_id, gone, keys)


def new_key() -> str:
    return secrets.token_urlsafe(24)


def endpoint_row(connection_id: int) -> WebhookEndpoint:
    """The connection's endpoint row, created (pending, with a new key) if it
    has none; committed. A disconnected one starts again with a new key, so
    late deliveries to the old key are never taken for the new endpoint's."""
    row = db.session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.connection_id == connection_id)
    )
    if row is None:
        row = WebhookEndpoint(connection_id=connection_id, key=new_key())
        db.session.add(row)
        try:
            db.session.commit()
        except Exception:  # another job created it first
            db.session.rollback()
            row = db.session.scalar(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.connection_id == connection_id
                )
            )
            assert row is not None
    elif row.status == WebhookEndpoint.GONE:
        row.key = new_key()
        row.status = WebhookEndpoint.PENDING
        row.kit_endpoint_id = None
        db.session.commit()
    return row


def forget(connection_id: int) -> None:
    """After a disconnect: delete the connection's events and its secrets, and
    keep the endpoint row, marked gone, so a late delivery gets 410."""
    db.session.execute(
        delete(WebhookEvent).where(WebhookEvent.connection_id == connection_id)
    )
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.connection_id == connection_id)
        .values(
            status=WebhookEndpoint.GONE,
            kit_endpoint_id=None,
            secret=None,
            previous_secret=None,
            previous_secret_expires_at=None,
            last_error=None,
        )
    )
    db.session.commit()


def prune(days: int, now: datetime | None = None) -> int:
    """Delete the events received more than `days` ago; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    result = db.session.execute(
        delete(WebhookEvent).where(WebhookEvent.received_at < cutoff)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
