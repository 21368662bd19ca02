"""``WebhookHub``: one sandbox's webhook endpoints, queued events and deliveries.

Events are queued per (endpoint, type) and cut into a delivery when the first
of them has waited ``webhook_batch_seconds`` or when 100 are queued, so events
that happen close together travel together (1 to 100 of one type). A bulk
action (``emit_bulk``) makes deliveries of its own, 100 events at most each.

The hub shares the state's lock: the API emits events while it holds the lock
for the account's data, and the dispatcher waits on ``changed`` (a condition of
that lock) for work. Nothing here makes an HTTP call (``dispatcher.py`` does,
with no lock held).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..registration import SandboxConfig
from .events import MAX_EVENTS_PER_DELIVERY, new_event
from .legacy import LegacyHub
from .records import Attempt, DeliveryRecord, EndpointRecord

#: Distinct id ranges, as for the account data: a delivery id sent where an
#: endpoint id belongs fails visibly.
FIRST_ENDPOINT_ID = 4_401
FIRST_DELIVERY_ID = 700_001


@dataclass
class _Batch:
    """Events of one type waiting for one endpoint, since ``first_at``."""

    first_at: float
    events: list[dict[str, Any]] = field(default_factory=list)


class WebhookHub:
    """Webhooks 2.0 for every account of a sandbox. Safe to use from any thread."""

    def __init__(self, config: SandboxConfig, lock: threading.RLock) -> None:
        self.config = config
        self.lock = lock
        #: Notified when there is new work for the dispatcher, and after every
        #: attempt (``flush`` waits on it).
        self.changed = threading.Condition(lock)
        self.endpoints: dict[int, EndpointRecord] = {}
        self.deliveries: dict[int, DeliveryRecord] = {}
        #: Accounts for which webhooks are "not enabled": their endpoint routes
        #: answer 404 and their events go nowhere.
        self.disabled_accounts: set[int] = set()
        #: How many times activity was made per account (seeds its choices).
        self.activity_runs: dict[int, int] = {}
        self._queued: dict[tuple[int, str], _Batch] = {}
        #: The legacy webhooks (``/v4/webhooks``): rules and their POSTs.
        self.legacy = LegacyHub(lock, self.changed)
        self._endpoint_ids = FIRST_ENDPOINT_ID
        self._delivery_ids = FIRST_DELIVERY_ID

    def reset(self) -> None:
        """Forget endpoints, deliveries and queued events; enable every account."""
        with self.lock:
            self.endpoints.clear()
            self.deliveries.clear()
            self.disabled_accounts.clear()
            self.activity_runs.clear()
            self._queued.clear()
            self.legacy.reset()
            self._endpoint_ids = FIRST_ENDPOINT_ID
            self._delivery_ids = FIRST_DELIVERY_ID
            self.changed.notify_all()

    # -- accounts -----------------------------------------------------------

    def is_enabled(self, account_id: int) -> bool:
        with self.lock:
            return account_id not in self.disabled_accounts

    def set_enabled(self, account_id: int, enabled: bool) -> None:
        with self.lock:
            if enabled:
                self.disabled_accounts.discard(account_id)
            else:
                self.disabled_accounts.add(account_id)

    # -- endpoints ----------------------------------------------------------

    def create_endpoint(
        self,
        *,
        client_id: str,
        account_id: int,
        url: str,
        events: list[str],
        name: str | None,
        description: str | None,
    ) -> EndpointRecord:
        with self.lock:
            endpoint = EndpointRecord(
                id=self._endpoint_ids,
                client_id=client_id,
                account_id=account_id,
                url=url,
                events=events,
                name=name,
                description=description,
                secret=new_secret(),
                created_at=time.time(),
            )
            self._endpoint_ids += 1
            self.endpoints[endpoint.id] = endpoint
            return endpoint

    def owned_endpoints(self, client_id: str, account_id: int) -> list[EndpointRecord]:
        """The endpoints this OAuth client made for this account."""
        with self.lock:
            return [
                endpoint
                for endpoint in self.endpoints.values()
                if endpoint.client_id == client_id and endpoint.account_id == account_id
            ]

    def find_endpoint(
        self, client_id: str, account_id: int, endpoint_id: int
    ) -> EndpointRecord | None:
        """The endpoint, if this client made it for this account (Kit answers
        404 for anyone else's)."""
        with self.lock:
            endpoint = self.endpoints.get(endpoint_id)
            if endpoint is None or (endpoint.client_id, endpoint.account_id) != (
                client_id,
                account_id,
            ):
                return None
            return endpoint

    def set_status(self, endpoint: EndpointRecord, status: str) -> None:
        """``disabled`` pauses deliveries (queued ones wait); ``active``
        resumes them."""
        with self.lock:
            endpoint.status = status
            self.changed.notify_all()

    def delete_endpoint(self, endpoint: EndpointRecord) -> None:
        """The endpoint goes, with its queued events and its delivery history."""
        with self.lock:
            self.endpoints.pop(endpoint.id, None)
            for key in [key for key in self._queued if key[0] == endpoint.id]:
                del self._queued[key]
            for delivery_id in [
                delivery.id
                for delivery in self.deliveries.values()
                if delivery.endpoint_id == endpoint.id
            ]:
                del self.deliveries[delivery_id]

    def rotate_secret(self, endpoint: EndpointRecord, *, force: bool) -> bool:
        """A new secret; the current one stays valid for
        ``webhook_rotation_seconds``. False (nothing changed) while an earlier
        rotation's window is still open, unless ``force``."""
        with self.lock:
            now = time.time()
            if endpoint.rotation_open(now) and not force:
                return False
            endpoint.previous_secret = endpoint.secret
            endpoint.previous_secret_expires_at = (
                now + self.config.webhook_rotation_seconds
            )
            endpoint.secret = new_secret()
            return True

    def revoke_previous_secret(self, endpoint: EndpointRecord) -> None:
        """End the rotation window now: only the current secret signs."""
        with self.lock:
            endpoint.previous_secret = None
            endpoint.previous_secret_expires_at = None

    def deliveries_of(self, endpoint: EndpointRecord) -> list[DeliveryRecord]:
        with self.lock:
            return [
                delivery
                for delivery in self.deliveries.values()
                if delivery.endpoint_id == endpoint.id
            ]

    # -- events -------------------------------------------------------------

    def emit(
        self, account_id: int, event_type: str, data: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        """Something happened in the account: queue the event for every
        active endpoint subscribed to its type. Returns the event."""
        event = new_event(event_type, data, now)
        with self.lock:
            self.legacy.emit_2_0(account_id, event_type, data)
            for endpoint in self._subscribed(account_id, event_type):
                key = (endpoint.id, event_type)
                batch = self._queued.setdefault(key, _Batch(first_at=time.time()))
                batch.events.append(event)
                if len(batch.events) >= MAX_EVENTS_PER_DELIVERY:
                    del self._queued[key]
                    self._new_delivery(endpoint, event_type, batch.events)
            self.changed.notify_all()
        return event

    def emit_bulk(
        self,
        account_id: int,
        event_type: str,
        datas: Iterable[dict[str, Any]],
        now: datetime,
    ) -> list[dict[str, Any]]:
        """A bulk action: its events, of one type, go out in deliveries of
        their own (100 events at most each), not mixed with queued ones."""
        events = [new_event(event_type, data, now) for data in datas]
        with self.lock:
            for event in events:
                self.legacy.emit_2_0(account_id, event_type, event["data"])
            for endpoint in self._subscribed(account_id, event_type):
                for start in range(0, len(events), MAX_EVENTS_PER_DELIVERY):
                    chunk = events[start : start + MAX_EVENTS_PER_DELIVERY]
                    self._new_delivery(endpoint, event_type, chunk)
            self.changed.notify_all()
        return events

    def _subscribed(self, account_id: int, event_type: str) -> list[EndpointRecord]:
        if account_id in self.disabled_accounts:
            return []
        return [
            endpoint
            for endpoint in self.endpoints.values()
            if endpoint.account_id == account_id
            and endpoint.active
            and event_type in endpoint.events
        ]

    def _new_delivery(
        self, endpoint: EndpointRecord, event_type: str, events: list[dict[str, Any]]
    ) -> DeliveryRecord:
        now = time.time()
        delivery = DeliveryRecord(
            id=self._delivery_ids,
            endpoint_id=endpoint.id,
            event_type=event_type,
            events=events,
            created_at=now,
            next_attempt_at=now,
        )
        self._delivery_ids += 1
        self.deliveries[delivery.id] = delivery
        return delivery

    # -- the dispatcher's side ----------------------------------------------

    def take_due(self, now: float, limit: int) -> tuple[list[DeliveryRecord], float]:
        """Cut the batches whose window has passed into deliveries, and mark
        up to ``limit`` deliveries due now as in flight. Returns them, and how
        long until something else falls due (hold the lock)."""
        window = self.config.webhook_batch_seconds
        wait = 1.0
        for key, batch in list(self._queued.items()):
            endpoint = self.endpoints.get(key[0])
            if endpoint is None or not endpoint.active:
                continue  # paused: the events wait for the endpoint
            if batch.first_at + window <= now:
                del self._queued[key]
                self._new_delivery(endpoint, key[1], batch.events)
            else:
                wait = min(wait, batch.first_at + window - now)
        due: list[DeliveryRecord] = []
        for delivery in self.deliveries.values():
            if delivery.in_flight or delivery.next_attempt_at is None:
                continue
            endpoint = self.endpoints.get(delivery.endpoint_id)
            if endpoint is None or not endpoint.active:
                continue
            if delivery.next_attempt_at > now:
                wait = min(wait, delivery.next_attempt_at - now)
            elif len(due) < limit:
                delivery.in_flight = True
                due.append(delivery)
        return due, max(wait, 0.0)

    def in_flight(self) -> int:
        with self.lock:
            return sum(1 for delivery in self.deliveries.values() if delivery.in_flight)

    def record_attempt(
        self,
        delivery: DeliveryRecord,
        attempt: Attempt,
        retry_after: float | None = None,
    ) -> None:
        """Keep the attempt; then the delivery succeeded (2xx), failed (410
        Gone, or the last attempt) or waits for its next retry."""
        with self.lock:
            delivery.in_flight = False
            if self.deliveries.get(delivery.id) is not delivery:
                return  # deleted with its endpoint, or the sandbox was reset
            delivery.attempts.append(attempt)
            code = attempt.status_code
            schedule = self.config.webhook_retry_seconds
            retries_done = len(delivery.attempts) - 1
            if code is not None and 200 <= code < 300:
                delivery.status, delivery.next_attempt_at = "succeeded", None
            elif code == 410 or retries_done >= len(schedule):
                delivery.status, delivery.next_attempt_at = "failed", None
            else:
                wait = float(schedule[retries_done])
                if code in (429, 503) and retry_after is not None:
                    wait = min(retry_after, max(schedule))
                delivery.next_attempt_at = time.time() + wait
            self.changed.notify_all()

    def flush(self, timeout: float) -> list[DeliveryRecord]:
        """Send every queued event now, without waiting for its batch window,
        and wait (up to ``timeout`` seconds, for a running dispatcher) until
        every delivery not yet attempted has had its first attempt."""
        deadline = time.monotonic() + timeout
        with self.lock:
            legacy = self.legacy
            legacy_due = len(legacy.sent) + len(legacy.outbox) + legacy.in_flight
            for key, batch in list(self._queued.items()):
                endpoint = self.endpoints.get(key[0])
                if endpoint is not None and endpoint.active:
                    del self._queued[key]
                    self._new_delivery(endpoint, key[1], batch.events)
            waiting = [
                delivery
                for delivery in self.deliveries.values()
                if not delivery.attempts
                and delivery.status == "pending"
                and self.endpoints[delivery.endpoint_id].active
            ]
            self.changed.notify_all()
            while True:
                left = [
                    delivery
                    for delivery in waiting
                    if not delivery.attempts
                    and self.deliveries.get(delivery.id) is delivery
                ]
                remaining = deadline - time.monotonic()
                legacy_left = len(self.legacy.sent) < legacy_due
                if (not left and not legacy_left) or remaining <= 0:
                    return waiting
                self.changed.wait(remaining)


def new_secret() -> str:
    return secrets.token_hex(32)
