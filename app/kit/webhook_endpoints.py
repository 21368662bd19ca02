"""Kit's Webhooks 2.0 (KIT_PLATFORM.md 5a): the calls for the app's endpoints at
Kit (create, list, update, delete, rotate, deliveries). The check of a
delivery's signature is `app.webhooks.signature`.

The calls go through `KitClient` (the connection's token, one refresh and
retry on a 401, Kit's errors typed). Kit answers 404 on create or list when
webhooks are not enabled for the account: `WebhooksUnavailable`, so the
caller can fall back to polling instead of retrying forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.kit.api import KitClient
from app.kit.errors import KitError, KitNotFound
from app.kit.times import kit_time

ENDPOINT_NAME = "Kit App Starter activity feed"


class WebhooksUnavailable(KitError):
    """Kit answered 404 to creating or listing endpoints: webhooks are not
    enabled for this account. Not worth retrying soon."""


# --- Kit's answers -------------------------------------------------------------------


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
            previous_secret_expires_at=kit_time(item.get("previous_secret_expires_at")),
        )

    def __repr__(self) -> str:
        # Never the secret.
        return f"<Endpoint {self.id} status={self.status}>"


@dataclass(frozen=True)
class DeliveryRecord:
    """Kit's record of one delivery it sent (its delivery history; the body we
    received is `app.webhooks.delivery.Delivery`); `payload` (the body Kit
    sent: a `delivery_id` and its `events`) only when asked for."""

    id: int
    status: str
    event_type: str
    created_at: datetime | None
    attempts: int = 0
    response_status: int | None = None
    payload: dict[str, Any] | None = None

    @classmethod
    def from_kit(cls, body: Any) -> DeliveryRecord:
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
            created_at=kit_time(item.get("created_at")),
            attempts=count if isinstance(count, int) else len(attempts),
            response_status=status if isinstance(status, int) else None,
            payload=payload if isinstance(payload, dict) else None,
        )


# --- the calls -----------------------------------------------------------------------

PATH = "webhook_endpoints"


def create_endpoint(client: KitClient, url: str, events: tuple[str, ...]) -> Endpoint:
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
) -> Iterator[DeliveryRecord]:
    """Kit's delivery history of the endpoint (30 days), without payloads;
    `status=` and `event_type=` filter at Kit."""
    for item in client.iterate(
        f"{PATH}/{endpoint_id}/deliveries", "deliveries", per_page=100, **filters
    ):
        yield DeliveryRecord.from_kit(item)


def delivery(client: KitClient, endpoint_id: str, delivery_id: int) -> DeliveryRecord:
    """One delivery with its payload."""
    return DeliveryRecord.from_kit(
        client.get(
            f"{PATH}/{endpoint_id}/deliveries/{delivery_id}", include_payload="true"
        )
    )
