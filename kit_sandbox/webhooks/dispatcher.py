"""The delivery thread: POSTs a hub's deliveries to their endpoints, signed,
and keeps every attempt (KIT_PLATFORM.md §5a, Kit's schedule compressed).

One ``Dispatcher`` per ``SandboxServer``, started and stopped with it. It waits
on the hub for work and hands each due delivery to a short-lived daemon thread,
so one slow receiver (up to ``webhook_timeout``) holds up nobody else.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from .hub import WebhookHub
from .legacy import LegacyDelivery
from .records import Attempt, DeliveryRecord
from .signing import signature_header

log = logging.getLogger(__name__)

#: Attempts under way at once, across every endpoint.
MAX_IN_FLIGHT = 16


class Dispatcher:
    """Delivers ``hub``'s events from a background thread until ``stop()``."""

    def __init__(self, hub: WebhookHub) -> None:
        self.hub = hub
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> Dispatcher:
        if self._thread is not None:
            raise RuntimeError("The webhook dispatcher is already running")
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name="kit-sandbox-webhooks", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop picking up work; attempts under way finish on their own."""
        thread = self._thread
        if thread is None:
            return
        with self.hub.lock:
            self._stopping = True
            self.hub.changed.notify_all()
        thread.join(timeout=5)
        self._thread = None

    def _run(self) -> None:
        hub = self.hub
        while True:
            with hub.lock:
                if self._stopping:
                    return
                room = MAX_IN_FLIGHT - hub.in_flight()
                due, wait = hub.take_due(time.time(), limit=room)
                legacy = hub.legacy.take()
                if not due and not legacy:
                    hub.changed.wait(timeout=wait if room > 0 else 1.0)
                    continue
            for one in legacy:
                threading.Thread(
                    target=self.attempt_legacy,
                    args=(one,),
                    name=f"kit-sandbox-legacy-{one.rule_id}",
                    daemon=True,
                ).start()
            for delivery in due:
                threading.Thread(
                    target=self.attempt,
                    args=(delivery,),
                    name=f"kit-sandbox-delivery-{delivery.id}",
                    daemon=True,
                ).start()

    def attempt(self, delivery: DeliveryRecord) -> None:
        """POST the delivery once, signed now with the endpoint's secrets, and
        record what happened."""
        hub = self.hub
        with hub.lock:
            endpoint = hub.endpoints.get(delivery.endpoint_id)
            if endpoint is None:
                delivery.in_flight = False
                return
            url = endpoint.url
            secrets = endpoint.signing_secrets()
            body = json.dumps(delivery.payload(), separators=(",", ":")).encode()
            timeout = hub.config.webhook_timeout
        started = time.time()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Kit-Webhooks/2.0 (sandbox)",
            "X-Kit-Delivery": str(delivery.id),
            "X-Kit-Signature": signature_header(secrets, int(started), body),
        }
        attempt = Attempt(attempted_at=started)
        retry_after: float | None = None
        try:
            with requests.Session() as session:
                # Deliveries go straight to the receiver, never through a
                # proxy taken from the environment.
                session.trust_env = False
                response = session.post(
                    url,
                    data=body,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                )
                attempt.status_code = response.status_code
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
        except requests.Timeout:
            attempt.error = "timeout"
        except requests.RequestException as error:
            attempt.error = f"connection error ({type(error).__name__})"
        except Exception as error:  # a bad URL must not kill the thread silently
            log.exception("Webhook delivery %s failed", delivery.id)
            attempt.error = f"error ({type(error).__name__})"
        hub.record_attempt(delivery, attempt, retry_after)

    def attempt_legacy(self, delivery: LegacyDelivery) -> None:
        """POST a legacy webhook's body once: unsigned, never retried."""
        body = json.dumps(delivery.body, separators=(",", ":")).encode()
        try:
            with requests.Session() as session:
                session.trust_env = False
                response = session.post(
                    delivery.url,
                    data=body,
                    headers={
                        "Content-Type": "application/json",
                        "User-Agent": "Kit-Webhooks/legacy (sandbox)",
                    },
                    timeout=self.hub.config.webhook_timeout,
                    allow_redirects=False,
                )
                delivery.status_code = response.status_code
                response.close()
        except requests.Timeout:
            delivery.error = "timeout"
        except requests.RequestException as error:
            delivery.error = f"connection error ({type(error).__name__})"
        except Exception as error:  # a bad URL must not kill the thread silently
            log.exception("Legacy webhook delivery to rule %s failed", delivery.rule_id)
            delivery.error = f"error ({type(error).__name__})"
        self.hub.legacy.record(delivery)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (a number, or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)
