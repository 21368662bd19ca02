"""What the sandbox keeps about webhook endpoints and their deliveries.

Times are wall-clock Unix seconds (``time.time()``), rendered in Kit's date
format; the dispatcher's schedule uses the same clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..records import iso

ENDPOINT_STATUSES = ("active", "disabled")
#: ``pending`` until an attempt gets a 2xx (``succeeded``), or the retries run
#: out or the receiver answers 410 Gone (``failed``).
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


def kit_date(moment: float | None) -> str | None:
    if moment is None:
        return None
    return iso(datetime.fromtimestamp(moment, UTC))


@dataclass
class EndpointRecord:
    """A Webhooks 2.0 endpoint: owned by the OAuth client that made it, for
    the account its token was issued for."""

    id: int
    client_id: str
    account_id: int
    url: str
    events: list[str]
    name: str | None
    description: str | None
    secret: str
    created_at: float
    status: str = "active"
    previous_secret: str | None = None
    previous_secret_expires_at: float | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def rotation_open(self, now: float | None = None) -> bool:
        """Is the previous secret still valid?"""
        moment = time.time() if now is None else now
        return (
            self.previous_secret is not None
            and self.previous_secret_expires_at is not None
            and moment < self.previous_secret_expires_at
        )

    def signing_secrets(self, now: float | None = None) -> list[str]:
        """The secrets a delivery is signed with: the current one, and the
        previous one while its rotation window is open."""
        if self.rotation_open(now):
            assert self.previous_secret is not None
            return [self.secret, self.previous_secret]
        return [self.secret]

    def to_api(self, *, with_secret: bool = False) -> dict[str, Any]:
        """The endpoint; ``secret`` only in the answers that create it or
        rotate it (Kit shows a secret once)."""
        body: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "created_at": kit_date(self.created_at),
            "previous_secret_expires_at": (
                kit_date(self.previous_secret_expires_at)
                if self.rotation_open()
                else None
            ),
        }
        if with_secret:
            body["secret"] = self.secret
        return body


@dataclass
class Attempt:
    """One POST of a delivery: its HTTP status, or what went wrong instead."""

    attempted_at: float
    status_code: int | None = None
    error: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "attempted_at": kit_date(self.attempted_at),
            "status_code": self.status_code,
            "error": self.error,
        }


@dataclass
class DeliveryRecord:
    """1 to 100 events of one type for one endpoint, and every attempt to
    deliver them (a retry resends the same ``id`` and events)."""

    id: int
    endpoint_id: int
    event_type: str
    events: list[dict[str, Any]]
    created_at: float
    #: When the next attempt is due (None once succeeded or failed).
    next_attempt_at: float | None
    status: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    #: An attempt is under way right now (the dispatcher's bookkeeping).
    in_flight: bool = False

    def payload(self) -> dict[str, Any]:
        """What is POSTed: ``{"delivery_id", "events"}``."""
        return {"delivery_id": self.id, "events": self.events}

    def to_api(self, *, include_payload: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "webhook_endpoint_id": self.endpoint_id,
            "event_type": self.event_type,
            "event_count": len(self.events),
            "status": self.status,
            "created_at": kit_date(self.created_at),
            "attempt_count": len(self.attempts),
            "next_attempt_at": kit_date(self.next_attempt_at),
            "attempts": [attempt.to_api() for attempt in self.attempts],
        }
        if include_payload:
            body["payload"] = self.payload()
        return body
