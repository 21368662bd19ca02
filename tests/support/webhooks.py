"""Webhooks: stored endpoints and events, and deliveries as Kit sends them
(signed independently of app.webhooks.signature, from KIT_PLATFORM.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import WebhookEndpoint, WebhookEvent


def add_events(
    app: Flask, events: list[dict[str, Any]], connection_id: int = 1
) -> list[int]:
    """Store events for the connection as the receiver would (each a dict of
    WebhookEvent fields; `event_id`, `occurred_at` and `type` default to a
    fresh id, now and subscriber.created). Returns their row ids, in order."""
    now = datetime.now(UTC)
    with app.app_context():
        rows = [
            WebhookEvent(
                connection_id=connection_id,
                event_id=event.get("event_id", os.urandom(8).hex()),
                occurred_at=event.get("occurred_at", now),
                type=event.get("type", "subscriber.created"),
                **{
                    k: v
                    for k, v in event.items()
                    if k not in ("event_id", "occurred_at", "type")
                },
            )
            for event in events
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def set_endpoint(app: Flask, connection_id: int = 1, status: str = "active") -> None:
    """Give the connection a webhook endpoint row in `status` (made if missing)."""
    with app.app_context():
        endpoint = db.session.scalar(
            select(WebhookEndpoint).where(
                WebhookEndpoint.connection_id == connection_id
            )
        )
        if endpoint is None:
            endpoint = WebhookEndpoint(
                connection_id=connection_id, key=os.urandom(16).hex()
            )
            db.session.add(endpoint)
        endpoint.status = status
        db.session.commit()


def add_endpoint(
    app: Flask, connection_id: int = 1, secret: str = "whsec-test", **values: Any
) -> str:
    """An active webhook endpoint row for the connection; returns its key."""
    key = values.pop("key", os.urandom(12).hex())
    with app.app_context():
        db.session.add(
            WebhookEndpoint(
                connection_id=connection_id,
                key=key,
                kit_endpoint_id=values.pop("kit_endpoint_id", "1"),
                secret=secret,
                status=values.pop("status", WebhookEndpoint.ACTIVE),
                **values,
            )
        )
        db.session.commit()
    return key


def endpoint_of(app: Flask, connection_id: int = 1) -> WebhookEndpoint | None:
    """The connection's endpoint row, secrets decrypted while the context is open."""
    with app.app_context():
        row = db.session.scalar(
            select(WebhookEndpoint).where(
                WebhookEndpoint.connection_id == connection_id
            )
        )
        if row is not None:
            _ = (row.secret, row.previous_secret)
        return row


def stored_events(app: Flask, connection_id: int | None = None) -> list[WebhookEvent]:
    """The stored webhook events (of `connection_id`, else all), oldest row first."""
    query = select(WebhookEvent).order_by(WebhookEvent.id)
    if connection_id is not None:
        query = query.where(WebhookEvent.connection_id == connection_id)
    with app.app_context():
        return list(db.session.scalars(query))


def kit_signature(body: bytes, secrets: list[str], timestamp: int | None = None) -> str:
    """`X-Kit-Signature` as Kit computes it: HMAC-SHA256 of `t.body` per secret."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + body
    parts = [
        "v1=" + hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()
        for s in secrets
    ]
    return ",".join([f"t={t}", *parts])


def kit_event(
    event_type: str = "subscriber.created",
    email: str = "new@example.com",
    event_id: str | None = None,
    **related: dict[str, Any],
) -> dict[str, Any]:
    """One event of a Webhooks 2.0 delivery, e.g. `kit_event("subscriber.tag_added",
    tag={"id": 7, "name": "VIP"})`."""
    return {
        "id": event_id or os.urandom(16).hex(),
        "type": event_type,
        "created": datetime.now(UTC).isoformat(),
        "data": {"subscriber": {"id": 1, "email_address": email}, **related},
    }


def delivery_body(events: list[dict[str, Any]], delivery_id: int = 1) -> bytes:
    return json.dumps({"delivery_id": delivery_id, "events": events}).encode()
