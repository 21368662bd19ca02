"""Helpers of the sandbox's webhook tests (test_webhooks*.py, test_api_details.py):
calls with the account's token, registering an endpoint, reading Kit's
signature, the control API's flush, and a delivery's history."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import Api

# Retries at once: 8 attempts in well under a second (`fast_kit` in conftest.py).
FAST_RETRIES = (0.05,) * 7

FEED_EVENTS = [
    "subscriber.created",
    "subscriber.activated",
    "subscriber.unsubscribed",
    "subscriber.bounced",
    "subscriber.complained",
    "subscriber.subscribed_to_form",
    "subscriber.tag_added",
    "subscriber.tag_removed",
]


def call(api: Api, method: str, path: str, **kwargs: Any) -> requests.Response:
    """Any method with the account's bearer token (Api has GET and POST)."""
    return requests.request(
        method,
        api.kit.url + path,
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=5,
        **kwargs,
    )


def register(
    api: Api, url: str, events: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    """A new endpoint for the account, with its secret."""
    body = {"url": url, "events": events or FEED_EVENTS, **fields}
    response = api.post("/v4/webhook_endpoints", json=body)
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()["webhook_endpoint"]
    return endpoint


def signatures(header: str) -> tuple[int, list[str]]:
    """``t`` and the ``v1`` values of an ``X-Kit-Signature`` header."""
    timestamp, v1 = None, []
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key == "t":
            timestamp = int(value)
        elif key == "v1":
            v1.append(value)
    assert timestamp is not None, header
    return timestamp, v1


def signed_with(secret: str, header: str, body: bytes) -> bool:
    """Does any ``v1`` prove ``secret`` signed this body, as §5a says:
    HMAC-SHA256(secret, "{t}.{raw body}"), hex, compared in constant time?"""
    timestamp, v1 = signatures(header)
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(expected, value) for value in v1)


def control(kit: SandboxServer, path: str, **body: Any) -> dict[str, Any]:
    response = requests.post(f"{kit.url}/_sandbox{path}", json=body, timeout=15)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def flush(kit: SandboxServer) -> list[dict[str, Any]]:
    """Send what is queued now; the deliveries made, once first attempted."""
    deliveries: list[dict[str, Any]] = control(kit, "/webhooks/flush")["deliveries"]
    return deliveries


def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    """``check()``'s first truthy answer, polling until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)


def history(api: Api, endpoint_id: int, **params: Any) -> list[dict[str, Any]]:
    pages = api.walk(f"/v4/webhook_endpoints/{endpoint_id}/deliveries", **params)
    return [delivery for page in pages for delivery in page["deliveries"]]


def settled(api: Api, endpoint_id: int, delivery_id: int) -> dict[str, Any]:
    """The delivery once it has succeeded or failed."""

    def done() -> dict[str, Any] | None:
        path = f"/v4/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}"
        delivery: dict[str, Any] = api.ok(path)["delivery"]
        return delivery if delivery["status"] != "pending" else None

    found = eventually(done)
    assert found, f"delivery {delivery_id} still pending"
    return found


def new_subscriber(api: Api, email: str) -> dict[str, Any]:
    answer = api.post("/v4/subscribers", json={"email_address": email})
    assert answer.status_code == 201, answer.text
    subscriber: dict[str, Any] = answer.json()["subscriber"]
    return subscriber
