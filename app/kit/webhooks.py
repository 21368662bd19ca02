"""Kit's Webhooks 2.0 (KIT_PLATFORM.md 5a): the endpoint calls, and the check of
a delivery's signature.

The calls go through `KitClient` (the connection's token, one refresh and
retry on a 401, Kit's errors typed). Kit answers 404 on create or list when
webhooks are not enabled for the account: `WebhooksUnavailable`, so the
caller can fall back to polling instead of retrying forever.

`verify` is pure: the raw body, the `X-Kit-Signature` header, the secrets
that may have signed it (two during a rotation) and the time; it returns the
signed timestamp or raises `BadSignature`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.kit.api import KitClient
from app.kit.errors import KitError, KitNotFound

# The subscriber events the activity feed shows.
EVENTS = (
    "subscriber.created",
    "subscriber.activated",
    "subscriber.unsubscribed",
    "subscriber.bounced",
    "subscriber.complained",
    "subscriber.subscribed_to_form",
    "subscriber.tag_added",
    "subscriber.tag_removed",
    "subscriber.added_to_sequence",
    "subscriber.sequence_completed",
)
ENDPOINT_NAME = "Kit App Starter activity feed"
TOLERANCE_SECONDS = 300  # a signed timestamp further from now is refused
MAX_SIGNATURE_HEADER = 1024
MAX_SIGNATURES = 8
_V1 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class WebhooksUnavailable(KitError):
    """Kit answered 404 to creating or listing endpoints: webhooks are not
    enabled for this account. Not worth retrying soon."""


class BadSignature(Exception):
    """A delivery whose `X-Kit-Signature` does not prove it came from Kit.

    `reason`: missing, malformed, stale, future, mismatch or no_secret.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the signature -------------------------------------------------------------------


def sign(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The `v1` signature Kit sends for `raw_body` at `timestamp`."""
    message = f"{timestamp}.".encode() + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(raw_body: bytes, header: str, secrets: list[str], now: float) -> int:
    """Check `header` (`t=<unix seconds>,v1=<hex>[,v1=<hex>]`) against the raw
    body; returns the signed timestamp.

    The header is parsed strictly: exactly one `t`, one or more `v1` of 64
    lowercase hex digits, nothing else. Any `v1` may match any secret (Kit
    signs with both secrets during a rotation); each comparison runs in
    constant time, and every pair is compared so the time spent does not tell
    which one matched.
    """
    if not header:
        raise BadSignature("missing")
    timestamp, signatures = _parse(header)
    if timestamp < now - TOLERANCE_SECONDS:
        raise BadSignature("stale")
    if timestamp > now + TOLERANCE_SECONDS:
        raise BadSignature("future")
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise BadSignature("no_secret")
    matched = False
    for secret in usable:
        expected = sign(raw_body, secret, timestamp)
        for signature in signatures:
            matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise BadSignature("mismatch")
    return timestamp


def _parse(header: str) -> tuple[int, list[str]]:
    if len(header) > MAX_SIGNATURE_HEADER:
        raise BadSignature("malformed")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise BadSignature("malformed")
        if name == "t" and timestamp is None and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif name == "v1" and _V1.fullmatch(value):
            signatures.append(value)
        else:
            raise BadSignature("malformed")
    if timestamp is None or not signatures or len(signatures) > MAX_SIGNATURES:
        raise BadSignature("malformed")
    return timestamp, signatures


# --- Kit's answers -------------------------------------------------------------------


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Endpoint:
    """One of Kit's webhook endpoints. `secret` only in the answer to a create
    or a rotation: Kit shows it once."""

    id: str
    url: str
    status: str
    events: tuple[str, ...]
    secret: str | None = None
    previous_secret_expires_at: datetime | None = None

    @classmethod
    def from_kit(cls, body: Any) -> Endpoint:
        item = _object(body)
        item = _object(item.get("webhook_endpoint")) or item
        endpoint_id = item.get("id")
        if endpoint_id in (None, ""):
            raise KitError("Kit's webhook endpoint answer has no id")
        events = item.get("events")
        secret = item.get("secret")
        return cls(
            id=str(endpoint_id),
            url=str(item.get("url") or ""),
            status=str(item.get("status") or ""),
            events=tuple(str(e) for e in events) if isinstance(events, list) else (),
            secret=secret if isinstance(secret, str) and secret else None,
            previous_secret_expires_at=_moment(item.get("previous_secret_expires_at")),
        )

    def __repr__(self) -> str:
        # Never the secret.
        return f"<Endpoint {self.id} status={self.status}>"


@dataclass(frozen=True)
class Delivery:
    """One delivery in Kit's history; `payload` (the body Kit sent: a
    `delivery_id` and its `events`) only when asked for."""

    id: int
    status: str
    event_type: str
    created_at: datetime | None
    attempts: int = 0
    response_status: int | None = None
    payload: dict[str, Any] | None = None

    @classmethod
    def from_kit(cls, body: Any) -> Delivery:
        item = _object(body)
        item = _object(item.get("delivery")) or item
        try:
            delivery_id = int(item["id"])
        except (KeyError, TypeError, ValueError):
            raise KitError("Kit's delivery answer has no usable id") from None
        attempts = item.get("attempts")
        attempts = attempts if isinstance(attempts, list) else []
        count = item.get("attempt_count")
        last = _object(attempts[-1]) if attempts else {}
        status = last.get("status_code")
        payload = item.get("payload")
        return cls(
            id=delivery_id,
            status=str(item.get("status") or ""),
            event_type=str(item.get("event_type") or ""),
            created_at=_moment(item.get("created_at")),
            attempts=count if isinstance(count, int) else len(attempts),
            response_status=status if isinstance(status, int) else None,
            payload=payload if isinstance(payload, dict) else None,
        )


# --- the calls -----------------------------------------------------------------------

PATH = "webhook_endpoints"


def create_endpoint(
    client: KitClient, url: str, events: tuple[str, ...] = EVENTS
) -> Endpoint:
    """Register `url` for `events`; the answer carries the signing secret."""
    body = {"url": url, "events": list(events), "name": ENDPOINT_NAME}
    try:
        return Endpoint.from_kit(client.post(PATH, json=body))
    except KitNotFound:
        raise WebhooksUnavailable("Kit webhooks are not enabled") from None


def list_endpoints(client: KitClient) -> list[Endpoint]:
    """Every endpoint this app has at Kit for the account, all pages."""
    try:
        return [
            Endpoint.from_kit(item)
            for item in client.iterate(PATH, "webhook_endpoints", per_page=100)
        ]
    except KitNotFound:
        raise WebhooksUnavailable("Kit webhooks are not enabled") from None


def get_endpoint(client: KitClient, endpoint_id: str) -> Endpoint:
    return Endpoint.from_kit(client.get(f"{PATH}/{endpoint_id}"))


def update_endpoint(client: KitClient, endpoint_id: str, **fields: Any) -> Endpoint:
    """PATCH `fields` (name, url, description, status, events: the whole list)."""
    return Endpoint.from_kit(client.call("PATCH", f"{PATH}/{endpoint_id}", json=fields))


def delete_endpoint(client: KitClient, endpoint_id: str) -> bool:
    """Delete the endpoint; False when Kit had no such endpoint (already gone)."""
    try:
        client.call("DELETE", f"{PATH}/{endpoint_id}")
    except KitNotFound:
        return False
    return True


def rotate_secret(
    client: KitClient, endpoint_id: str, *, force: bool = False
) -> Endpoint:
    """A new signing secret (in the answer, once); the old one stays valid until
    `previous_secret_expires_at`. Kit answers 409 while a window is open,
    unless `force`."""
    body = {"force": True} if force else {}
    return Endpoint.from_kit(client.post(f"{PATH}/{endpoint_id}/rotate_secret", body))


def revoke_previous_secret(client: KitClient, endpoint_id: str) -> Endpoint:
    """End the rotation window now: only the new secret signs."""
    return Endpoint.from_kit(
        client.post(f"{PATH}/{endpoint_id}/revoke_previous_secret", {})
    )


def deliveries(
    client: KitClient, endpoint_id: str, **filters: str
) -> Iterator[Delivery]:
    """Kit's delivery history of the endpoint (30 days), without payloads;
    `status=` and `event_type=` filter at Kit."""
    for item in client.iterate(
        f"{PATH}/{endpoint_id}/deliveries", "deliveries", per_page=100, **filters
    ):
        yield Delivery.from_kit(item)


def delivery(client: KitClient, endpoint_id: str, delivery_id: int) -> Delivery:
    """One delivery with its payload."""
    return Delivery.from_kit(
        client.get(
            f"{PATH}/{endpoint_id}/deliveries/{delivery_id}", include_payload="true"
        )
    )
