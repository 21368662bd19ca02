"""Webhooks 2.0 deliveries retried (KIT_PLATFORM.md §5a): Kit's schedule
compressed to seconds with the same delivery id, stopped by 410, Retry-After
honoured; and a history with every attempt and the payloads.

Most tests use a long batch window and ``/_sandbox/webhooks/flush`` (``fast_kit``
in conftest.py), so what travels together is decided by the test, not by timing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxServer
from kit_sandbox.testing import WebhookReceiver
from tests.sandbox.support import ADA, KIT_DATE, Api, StartSandbox
from tests.sandbox.webhooks import (
    FAST_RETRIES,
    call,
    flush,
    history,
    new_subscriber,
    register,
    settled,
    signed_with,
)

# -- retries ---------------------------------------------------------------------------


def test_a_failed_attempt_is_retried_with_the_same_delivery_re_signed(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    endpoint = register(api, hook.url, ["subscriber.created"])
    hook.answer(500, times=2)
    new_subscriber(api, "retry@example.com")
    [first] = flush(fast_kit)

    received = hook.wait_for(3)
    assert len(received) == 3
    assert {r.headers["X-Kit-Delivery"] for r in received} == {str(first["id"])}
    assert {r.body for r in received} == {received[0].body}
    for r in received:
        assert signed_with(endpoint["secret"], r.headers["X-Kit-Signature"], r.body)
    delivery = settled(api, endpoint["id"], first["id"])
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempt_count"] == 3
    assert delivery["next_attempt_at"] is None


def test_retries_stop_after_8_attempts_and_the_delivery_fails(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    endpoint = register(api, hook.url, ["subscriber.created"])
    hook.answer(500, times=20)
    new_subscriber(api, "doomed@example.com")
    [first] = flush(fast_kit)
    delivery = settled(api, endpoint["id"], first["id"])
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [500] * 8
    assert len(hook.received) == 8
    assert [d["id"] for d in history(api, endpoint["id"], status="failed")] == [
        first["id"]
    ]


def test_410_gone_stops_retries_at_once_and_keeps_the_endpoint(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    endpoint = register(api, hook.url, ["subscriber.created"])
    hook.answer(410)
    new_subscriber(api, "gone@example.com")
    [first] = flush(fast_kit)
    delivery = settled(api, endpoint["id"], first["id"])
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [410]
    time.sleep(0.3)  # several retry intervals: nothing more arrives
    assert len(hook.received) == 1
    kept = api.ok(f"/v4/webhook_endpoints/{endpoint['id']}")["webhook_endpoint"]
    assert kept["status"] == "active"


def test_timeouts_and_connection_errors_are_retried(
    start_sandbox: StartSandbox,
) -> None:
    kit = start_sandbox(webhook_batch_seconds=60, webhook_retry_seconds=FAST_RETRIES)
    api = Api(kit, ADA)
    with WebhookReceiver() as closed:
        url = closed.url  # nothing listens there once it stops
    endpoint = register(api, url, ["subscriber.created"])
    new_subscriber(api, "nobody-home@example.com")
    [first] = flush(kit)
    delivery = settled(api, endpoint["id"], first["id"])
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == 8
    assert all(a["status_code"] is None for a in delivery["attempts"])
    assert all(a["error"].startswith("connection error") for a in delivery["attempts"])


def _wait_after_first_attempt(
    api: Api, kit: SandboxServer, hook: WebhookReceiver, **answer: Any
) -> float:
    """Seconds between the first attempt and the retry Kit schedules after
    the receiver's ``answer`` (whole seconds, as Kit's dates are)."""
    endpoint = register(api, hook.url, ["subscriber.created"])
    hook.answer(**answer)
    new_subscriber(api, f"later{time.time_ns()}@example.com")
    [first] = flush(kit)
    path = f"/v4/webhook_endpoints/{endpoint['id']}/deliveries/{first['id']}"
    delivery = api.ok(path)["delivery"]
    assert delivery["status"] == "pending"
    attempted = datetime.fromisoformat(delivery["attempts"][0]["attempted_at"])
    retry = datetime.fromisoformat(delivery["next_attempt_at"])
    return (retry - attempted).total_seconds()


@pytest.mark.parametrize(
    ("answer", "low", "high"),
    [
        ({"status": 503, "headers": {"Retry-After": "20"}}, 19, 21),
        ({"status": 429, "headers": {"Retry-After": "7"}}, 6, 8),
        # Capped by the schedule's longest wait (60 s, for Kit's 24 h).
        ({"status": 503, "headers": {"Retry-After": "86400"}}, 59, 61),
        # Only 429 and 503 carry a Retry-After worth honouring.
        ({"status": 500, "headers": {"Retry-After": "20"}}, 0, 2),
        ({"status": 503}, 0, 2),  # the schedule's first wait: 1 s
    ],
)
def test_retry_after_is_honoured_on_429_and_503(
    start_sandbox: StartSandbox,
    hook: WebhookReceiver,
    answer: dict[str, Any],
    low: float,
    high: float,
) -> None:
    kit = start_sandbox(webhook_batch_seconds=60)  # Kit's schedule, compressed
    wait = _wait_after_first_attempt(Api(kit, ADA), kit, hook, **answer)
    assert low <= wait <= high


def test_retry_after_may_be_an_http_date(
    start_sandbox: StartSandbox, hook: WebhookReceiver
) -> None:
    kit = start_sandbox(webhook_batch_seconds=60)
    when = format_datetime(datetime.fromtimestamp(time.time() + 30, UTC), usegmt=True)
    wait = _wait_after_first_attempt(
        Api(kit, ADA), kit, hook, status=503, headers={"Retry-After": when}
    )
    assert 27 <= wait <= 31


# -- history ---------------------------------------------------------------------------


def test_the_history_keeps_every_attempt_and_the_payload(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    endpoint = register(api, hook.url, ["subscriber.created", "tag.created"])
    base = f"/v4/webhook_endpoints/{endpoint['id']}/deliveries"
    new_subscriber(api, "kept@example.com")
    flush(fast_kit)
    api.post("/v4/tags", json={"name": "Archive"})
    hook.answer(500)
    [tag_delivery] = flush(fast_kit)
    settled(api, endpoint["id"], tag_delivery["id"])

    everything = history(api, endpoint["id"], per_page=1)
    assert [d["event_type"] for d in everything] == [
        "tag.created",
        "subscriber.created",
    ]
    assert all("payload" not in d for d in everything)
    only_tags = history(api, endpoint["id"], event_type="tag.created")
    assert [d["id"] for d in only_tags] == [tag_delivery["id"]]
    assert history(api, endpoint["id"], status="failed") == []
    assert len(history(api, endpoint["id"], status="succeeded")) == 2

    detail = api.ok(f"{base}/{tag_delivery['id']}", include_payload="true")["delivery"]
    assert [a["status_code"] for a in detail["attempts"]] == [500, 200]
    assert all(KIT_DATE.fullmatch(a["attempted_at"]) for a in detail["attempts"])
    received = [r.json() for r in hook.received]
    assert detail["payload"] == received[-1] == received[-2]
    assert "payload" not in api.ok(f"{base}/{tag_delivery['id']}")["delivery"]

    for bad in ({"status": "lost"}, {"event_type": "purchase.created"}):
        assert api.get(base, **bad).status_code == 422
    missing = api.get(f"{base}/1")
    assert missing.status_code == 404
    other = register(api, hook.url, ["tag.created"])
    elsewhere = api.get(
        f"/v4/webhook_endpoints/{other['id']}/deliveries/{tag_delivery['id']}"
    )
    assert elsewhere.status_code == 404


def test_a_deleted_endpoint_takes_its_queue_and_history_with_it(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    endpoint = register(api, hook.url, ["subscriber.created"])
    new_subscriber(api, "queued@example.com")
    call(api, "DELETE", f"/v4/webhook_endpoints/{endpoint['id']}")
    assert flush(fast_kit) == []
    assert hook.received == []
    overview = requests.get(f"{fast_kit.url}/_sandbox/webhooks", timeout=5).json()
    assert overview["deliveries"] == []
