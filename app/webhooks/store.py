"""A delivery from Kit, checked and stored: plain functions, no request.

`parse_delivery` (`app.webhooks.delivery`) validates the JSON strictly
(after the signature was checked on the raw bytes); `store_delivery` inserts
each event once, with the dialect's INSERT ... ON CONFLICT DO NOTHING on the
unique (connection, event id), so a redelivery, or two workers storing the
same delivery at once, insert one row, and only while the connection is live.
The endpoint rows (one per connection) are read and written here too.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import KitConnection, WebhookEndpoint, WebhookEvent
from app.webhooks.delivery import (
    BadDelivery,
    Delivery,
    Event,
    json_bytes,
    parse_delivery,
)
from app.webhooks.transaction import store_in_one_statement, write_transaction

# Parsing lives in `app.webhooks.delivery`; callers import it from here too.
__all__ = ["BadDelivery", "Delivery", "Event", "json_bytes", "parse_delivery"]

MAX_DATA = 16 * 1024  # characters of one event's `data` kept as it came
RELATED = ("form", "tag", "sequence", "custom_field")


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


def event_rows(connection_id: int, delivery: Delivery, now: datetime) -> list[dict]:
    """The delivery's events as rows, once each (Kit may repeat one)."""
    rows: dict[str, dict] = {}
    for event in delivery.events:
        rows.setdefault(event.id, _row(connection_id, delivery.id, event, now))
    return list(rows.values())


def insert_events(
    connection_id: int,
    delivery: Delivery,
    now: datetime,
    bind: Connection | None = None,
) -> int:
    """Insert the delivery's events not stored yet (no commit), on `bind` (by
    default the session's connection); returns how many were new."""
    return insert_rows(event_rows(connection_id, delivery, now), bind)


def insert_rows(rows: list[dict], bind: Connection | None = None) -> int:
    """Insert the rows of events not stored yet; returns how many were new."""
    connection = bind if bind is not None else db.session.connection()
    insert = (
        postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    )
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
    return len(connection.execute(statement, rows).all())


def _still_live(connection: Connection, endpoint_id: int, connection_id: int) -> bool:
    """Whether the endpoint and its connection are live, read under the write
    lock the insert commits with (SQLite; PostgreSQL checks in the insert's
    own statement, `store_in_one_statement`)."""
    query = (
        select(KitConnection.status, WebhookEndpoint.status)
        .join(WebhookEndpoint, WebhookEndpoint.connection_id == KitConnection.id)
        .where(WebhookEndpoint.id == endpoint_id, KitConnection.id == connection_id)
    )
    row = connection.execute(query).one_or_none()
    return (
        row is not None
        and row[0] != KitConnection.REVOKED
        and row[1] != WebhookEndpoint.GONE
    )


NOTED_EVERY = timedelta(minutes=1)  # how fresh `last_delivery_at` is kept


def store_delivery(
    endpoint_id: int,
    connection_id: int,
    delivery: Delivery,
    noted_at: datetime | None = None,
) -> int | None:
    """Store the events and note the delivery in one transaction; returns how
    many events were new, or None (nothing stored) when the connection was
    disconnected meanwhile: the check and the insert are one transaction, so
    no event outlives the disconnect that deletes the connection's events.
    `noted_at`: the endpoint's `last_delivery_at` as read; within a minute of
    now it stands (one statement less a delivery in a burst)."""
    now = datetime.now(UTC)
    rows = event_rows(connection_id, delivery, now)  # before the lock: it is CPU
    note = noted_at is None or now - noted_at >= NOTED_EVERY
    if db.engine.dialect.name == "postgresql":
        return store_in_one_statement(
            endpoint_id, connection_id, delivery.id, rows, now, note
        )
    with write_transaction() as connection:
        if not _still_live(connection, endpoint_id, connection_id):
            return None
        stored = insert_rows(rows, bind=connection)
        if note:
            connection.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id)
                .values(last_delivery_at=now)
            )
    return stored


# --- the endpoint rows ---------------------------------------------------------------


@dataclass(frozen=True)
class Receiver:
    """What the receiving view needs of an endpoint, secrets decrypted."""

    id: int
    connection_id: int
    gone: bool
    secrets: list[str]
    last_delivery_at: datetime | None = None
    # The event types the creator does not want kept (the settings page).
    not_kept: frozenset[str] = frozenset()


def receiver(key: str, now: datetime) -> Receiver | None:
    """The endpoint named by `key` in its URL, or None. `gone`: its connection
    was disconnected (or its grant revoked). The previous secret counts only
    while its window is open."""
    row = db.session.execute(
        select(WebhookEndpoint, KitConnection.status, KitConnection.events_not_kept)
        .join(KitConnection, KitConnection.id == WebhookEndpoint.connection_id)
        .where(WebhookEndpoint.key == key)
    ).one_or_none()
    if row is None:
        return None
    endpoint, connection_status, not_kept = row
    gone = (
        endpoint.status == WebhookEndpoint.GONE
        or connection_status == KitConnection.REVOKED
    )
    keys = [endpoint.secret or ""]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        keys.append(endpoint.previous_secret)
    return Receiver(
        endpoint.id,
        endpoint.connection_id,
        gone,
        keys,
        endpoint.last_delivery_at,
        frozenset(not_kept.split()),
    )


def new_key() -> str:
    return secrets.token_urlsafe(24)


def endpoint_row(connection_id: int) -> WebhookEndpoint:
    """The connection's endpoint row, created (pending, with a new key) if it
    has none; committed. A disconnected one starts again with a new key, so
    late deliveries to the old key are never taken for the new endpoint's; it
    keeps the Kit id of the endpoint the disconnect left at Kit (no secret),
    for `register_endpoint` to delete with the new grant."""
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
        db.session.commit()
    return row


def forget(connection_id: int) -> None:
    """After a disconnect: delete the connection's events and its secrets, and
    keep the endpoint row, marked gone, so a late delivery gets 410. Its Kit
    id stays: the grant, revoked first, could not delete the endpoint at Kit,
    and the next grant for the account does (`endpoint_row`)."""
    db.session.execute(
        delete(WebhookEvent).where(WebhookEvent.connection_id == connection_id)
    )
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.connection_id == connection_id)
        .values(
            status=WebhookEndpoint.GONE,
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
