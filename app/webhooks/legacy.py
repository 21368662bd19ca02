"""Kit's legacy webhook deliveries, received: plain functions, no request.

Legacy deliveries carry no signature and no event id (KIT_PLATFORM.md 5). So:
- the rule is named by the random key in its target URL
  (`/webhooks/kit/legacy/<key>`), looked up by its SHA-256 (only the hash is
  stored: a leaked database does not give the URLs away, and the lookup on a
  hash tells a timing attacker nothing about the key);
- the body names no event, so the rule says which event it is (and its
  parameter, the link or product, which the body does not carry either);
- an event id is derived (`event_id`): a purchase by Kit's purchase id, which
  is unique in the account; a subscriber event by (event, parameter,
  subscriber id, ten-minute window). A copy received within ten minutes of
  the one stored is the same event; the same subscriber clicking the same
  link again later is a new one.

Stored as the 2.0 events are (`store.insert_rows`), in one transaction that
checks the connection is still live, so no event outlives a disconnect.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from app.extensions import db
from app.kit.times import parse_time
from app.models import KitConnection, LegacyWebhook, WebhookEvent
from app.webhooks.store import insert_rows
from app.webhooks.transaction import write_transaction

#: The events only the legacy webhooks carry (2.0 refuses them with 422).
ONLY_LEGACY = (
    "purchase.purchase_create",
    "subscriber.product_purchase",
    "subscriber.link_click",
)
#: When Kit answers 404 to Webhooks 2.0: the legacy events with no parameter,
#: stored under the 2.0 type the feed already has words for.
AS_2_0 = {
    "subscriber.subscriber_activate": "subscriber.activated",
    "subscriber.subscriber_unsubscribe": "subscriber.unsubscribed",
    "subscriber.subscriber_bounce": "subscriber.bounced",
    "subscriber.subscriber_complain": "subscriber.complained",
}
SAME_EVENT_WINDOW = timedelta(minutes=10)
MAX_DATA = 16 * 1024
MAX_BODY = 64 * 1024  # one subscriber or one purchase


class BadLegacyDelivery(ValueError):
    """The body is not what Kit sends for the rule's event."""


def new_key() -> str:
    return secrets.token_urlsafe(24)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class LegacyReceiver:
    id: int
    connection_id: int
    event: str
    param: str
    gone: bool
    not_kept: frozenset[str] = frozenset()  # kinds the creator switched off


def receiver(key: str) -> LegacyReceiver | None:
    """The rule named by `key` in its URL, or None. `gone`: disconnected."""
    row = db.session.execute(
        select(LegacyWebhook, KitConnection.status, KitConnection.events_not_kept)
        .join(KitConnection, KitConnection.id == LegacyWebhook.connection_id)
        .where(LegacyWebhook.key_hash == key_hash(key))
    ).one_or_none()
    db.session.commit()
    if row is None:
        return None
    rule, status, not_kept = row
    gone = rule.status == LegacyWebhook.GONE or status == KitConnection.REVOKED
    return LegacyReceiver(
        rule.id,
        rule.connection_id,
        rule.event,
        rule.param,
        gone,
        frozenset((not_kept or "").split()),
    )


# --- the body ------------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").encode("utf-8", "replace").decode()[:limit]


def _positive_int(value: Any) -> int | None:
    if type(value) is int and 0 < value < 2**63:
        return value
    return None


def _purchase_subject(purchase: dict[str, Any]) -> str:
    products = purchase.get("products")
    names = [
        _text(item.get("name"), 100)
        for item in (products if isinstance(products, list) else [])
        if isinstance(item, dict)
    ]
    names = [name for name in names if name]
    subject = ", ".join(names[:3]) + (f" and {len(names) - 3} more" * (len(names) > 3))
    total, currency = purchase.get("total"), _text(purchase.get("currency"), 3)
    if type(total) in (int, float) and currency:
        subject = f"{subject} · {total:.2f} {currency}".lstrip(" ·")
    return subject


def parse(rule: LegacyReceiver, raw: bytes, now: datetime) -> dict[str, Any]:
    """The body as a row of `webhook_events` (BadLegacyDelivery if it is not
    Kit's body for the rule's event)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadLegacyDelivery("not JSON") from None
    if not isinstance(body, dict):
        raise BadLegacyDelivery("not an object")
    if rule.event == "purchase.purchase_create":
        # Kit's documented payload is the purchase itself; tolerate a wrapper.
        purchase = (
            body.get("purchase") if isinstance(body.get("purchase"), dict) else body
        )
        purchase_id = _positive_int(purchase.get("id"))
        if purchase_id is None:
            raise BadLegacyDelivery("purchase id")
        try:
            occurred = parse_time(str(purchase.get("transaction_time") or ""))
        except ValueError:
            occurred = now
        return _row(
            rule,
            f"purchase-{purchase_id}",
            occurred,
            now,
            _text(purchase.get("email_address"), 254),
            _purchase_subject(purchase),
            body,
        )
    subscriber = body.get("subscriber")
    subscriber_id = (
        _positive_int(subscriber.get("id")) if isinstance(subscriber, dict) else None
    )
    if subscriber_id is None or not isinstance(subscriber, dict):
        raise BadLegacyDelivery("subscriber")
    return _row(
        rule,
        event_id(rule, subscriber_id, now),
        now,
        now,
        _text(subscriber.get("email_address"), 254),
        _subject(rule),
        body,
    )


def _subject(rule: LegacyReceiver) -> str:
    if rule.event == "subscriber.product_purchase":
        return f"product {rule.param}"
    return rule.param[:255]  # the link; "" for the events without a parameter


def event_id(rule: LegacyReceiver, subscriber_id: int, now: datetime) -> str:
    """A subscriber event's id, the same for every copy within its window."""
    window = int(now.timestamp() // SAME_EVENT_WINDOW.total_seconds())
    return _window_id(rule, subscriber_id, window)


def _window_id(rule: LegacyReceiver, subscriber_id: int, window: int) -> str:
    seed = f"{rule.event}\n{rule.param}\n{subscriber_id}\n{window}"
    return "legacy-" + hashlib.sha256(seed.encode()).hexdigest()[:40]


def _row(
    rule: LegacyReceiver,
    derived_id: str,
    occurred: datetime,
    now: datetime,
    email: str,
    subject: str,
    body: dict[str, Any],
) -> dict[str, Any]:
    try:
        text = json.dumps(body, separators=(",", ":"))
    except (ValueError, RecursionError):
        text = ""
    if not text or len(text) > MAX_DATA:
        text = json.dumps({"truncated": True})
    return {
        "connection_id": rule.connection_id,
        "event_id": derived_id,
        "delivery_id": None,
        "type": AS_2_0.get(rule.event, rule.event),
        "occurred_at": occurred,
        "received_at": now,
        "subscriber_email": email,
        "subject": _text(subject, 255),
        "data": text,
    }


# --- storing -------------------------------------------------------------------------


def _still_live(connection: Connection, rule_id: int, connection_id: int) -> bool:
    """As `store._still_live`: on PostgreSQL FOR SHARE of the connection's
    row, which a disconnect's FOR UPDATE orders with."""
    query = (
        select(KitConnection.status, LegacyWebhook.status)
        .join(LegacyWebhook, LegacyWebhook.connection_id == KitConnection.id)
        .where(LegacyWebhook.id == rule_id, KitConnection.id == connection_id)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(read=True, of=KitConnection)
    row = connection.execute(query).one_or_none()
    return (
        row is not None
        and row[0] != KitConnection.REVOKED
        and row[1] != LegacyWebhook.GONE
    )


def _copy_stored(connection: Connection, rule: LegacyReceiver, row: dict) -> bool:
    """A copy of a subscriber event in the window before, received less than
    SAME_EVENT_WINDOW ago: the same event."""
    if rule.event == "purchase.purchase_create":
        return False  # the purchase id is the event's id
    now: datetime = row["received_at"]
    subscriber_id = json.loads(row["data"]).get("subscriber", {}).get("id")
    if type(subscriber_id) is not int:
        return False
    window = int(now.timestamp() // SAME_EVENT_WINDOW.total_seconds())
    found = connection.execute(
        select(WebhookEvent.id).where(
            WebhookEvent.connection_id == rule.connection_id,
            WebhookEvent.event_id == _window_id(rule, subscriber_id, window - 1),
            WebhookEvent.received_at > now - SAME_EVENT_WINDOW,
        )
    ).first()
    return found is not None


def store(rule: LegacyReceiver, row: dict[str, Any]) -> int | None:
    """Store the event once; 1 if new, 0 if a copy, None (nothing stored)
    when the connection was disconnected meanwhile."""
    with write_transaction() as connection:
        if not _still_live(connection, rule.id, rule.connection_id):
            return None
        stored = (
            0 if _copy_stored(connection, rule, row) else insert_rows([row], connection)
        )
        connection.execute(
            update(LegacyWebhook)
            .where(LegacyWebhook.id == rule.id)
            .values(last_delivery_at=datetime.now(UTC))
        )
    return stored
