"""The Kit data the app keeps: finished days' growth figures, each connection's
webhook endpoint at Kit and its legacy webhook rules, and the events Kit
delivered to them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import EncryptedText, UTCDateTime
from app.extensions import db
from app.models.accounts import utcnow


class GrowthDay(db.Model):
    """One finished day of a connection's growth figures, as Kit gave them.

    A finished day's figures no longer change, so it is fetched from Kit once
    and read from here after. Unique per (connection, day): of two workers
    storing the same day at once, one inserts and the other does nothing.
    """

    __tablename__ = "growth_days"
    __table_args__ = (UniqueConstraint("connection_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("kit_connections.id", ondelete="CASCADE")
    )
    day: Mapped[date]
    # GrowthStats' figures: the count at the end of the day, and its flows.
    subscribers: Mapped[int]
    new_subscribers: Mapped[int]
    cancellations: Mapped[int]
    net_new_subscribers: Mapped[int]
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<GrowthDay {self.day} connection={self.connection_id}>"


class WebhookEndpoint(db.Model):
    """The Webhooks 2.0 endpoint at Kit that delivers one connection's events.

    Kit POSTs to `{PUBLIC_BASE_URL}/webhooks/kit/{key}`: the random `key` names
    the connection (the body is never trusted for that), and the signing
    `secret` (shown by Kit once, encrypted here like the tokens) proves the
    delivery. During a secret rotation the previous secret stays valid until
    `previous_secret_expires_at`.
    """

    __tablename__ = "webhook_endpoints"

    PENDING = "pending"  # not registered at Kit yet (or being repaired)
    ACTIVE = "active"
    UNAVAILABLE = "unavailable"  # Kit answered 404: webhooks not enabled
    FAILED = "failed"  # registration failed; the upkeep job tries again
    GONE = "gone"  # the connection was disconnected: deliveries get 410

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("kit_connections.id", ondelete="CASCADE"), unique=True
    )
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kit_endpoint_id: Mapped[str | None] = mapped_column(String(64))
    secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    last_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(255))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    def __repr__(self) -> str:
        # Never the secrets.
        return (
            f"<WebhookEndpoint {self.id} connection={self.connection_id} "
            f"status={self.status}>"
        )


class WebhookEvent(db.Model):
    """One event Kit delivered for a connection, stored once by its id.

    Unique per (connection, Kit's event id): a redelivery, or two workers
    storing the same delivery at once, insert one row. The feed reads newest
    first on (connection, occurred_at, id), so a page costs the same for ten
    events or millions, and polls for newer rows on (connection, id); old
    events are pruned on `received_at`.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("connection_id", "event_id"),
        Index(
            "ix_webhook_events_connection_occurred",
            "connection_id",
            "occurred_at",
            "id",
        ),
        # The live feed's "newer than the last one shown".
        Index("ix_webhook_events_connection_id_id", "connection_id", "id"),
        Index("ix_webhook_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("kit_connections.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(64))  # Kit's events[].id
    delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(64))  # e.g. subscriber.tag_added
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # events[].created
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subscriber_email: Mapped[str] = mapped_column(String(254), default="")
    # The related form, tag, sequence or custom field, by name ("" if none).
    subject: Mapped[str] = mapped_column(String(255), default="")
    data: Mapped[str] = mapped_column(Text, default="{}")  # events[].data, as JSON

    def __repr__(self) -> str:
        return f"<WebhookEvent {self.type} connection={self.connection_id}>"


class LegacyWebhook(db.Model):
    """One rule of Kit's legacy webhooks (`/v4/webhooks`) for a connection: one
    event type (and its parameter: a product id, a link URL) per rule.

    For the events Webhooks 2.0 refuses (purchases, link clicks), and for the
    subscriber events 2.0 carries when Kit answers 404 to 2.0 for the account.
    Legacy deliveries are unsigned: the random key in the target URL is all
    that proves one, so only its SHA-256 is kept (`key_hash`), and a new key
    is made whenever the rule is created at Kit.
    """

    __tablename__ = "legacy_webhooks"
    __table_args__ = (UniqueConstraint("connection_id", "event", "param"),)

    PENDING = "pending"  # not created at Kit yet (or being repaired)
    ACTIVE = "active"
    UNAVAILABLE = "unavailable"  # Kit answered 404 to the legacy API too
    FAILED = "failed"  # creation failed; the hourly upkeep tries again
    GONE = "gone"  # the connection was disconnected: deliveries get 410

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("kit_connections.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(64))  # Kit's legacy name
    # The event's required parameter ("" when it has none): product id, link URL.
    param: Mapped[str] = mapped_column(String(1000), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kit_rule_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    last_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    def __repr__(self) -> str:
        return (
            f"<LegacyWebhook {self.id} {self.event} connection={self.connection_id} "
            f"status={self.status}>"
        )
