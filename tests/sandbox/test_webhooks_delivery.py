"""Webhooks 2.0 deliveries (KIT_PLATFORM.md §5a) to a receiver run by the test:
signed as documented, batched (1 to 100 events of one type), retried on Kit's
schedule compressed to seconds with the same delivery id, stopped by 410,
Retry-After honoured, and a history with every attempt and the payloads.

Most tests use a long batch window and ``/_sandbox/webhooks/flush``, so what
travels together is decided by the test, not by timing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxServer
from kit_sandbox.testing import WebhookReceiver
from tests.sandbox.support import ADA, KIT_DATE, Api, StartSandbox
from tests.sandbox.test_webhooks import (
    call,
    control,
    flush,
    register,
    signatures,
    signed_with,
)

FAST_RETRIES = (0.05,) * 7  # 8 attempts in well under a second


@pytest.fixture
def fast_kit(start_sandbox: StartSandbox) -> SandboxServer:
    """Batches cut only by a flush (or at 100 events), retries at once."""
    return start_sandbox(webhook_batch_seconds=60, webhook_retry_seconds=FAST_RETRIES)


@pytest.fixture
def api(fast_kit: SandboxServer) -> Api:
    return Api(fast_kit, ADA)


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


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


# -- what a delivery looks like ----------------------------------------------------


def test_a_delivery_is_signed_json_as_documented(
    start_sandbox: StartSandbox, hook: WebhookReceiver
) -> None:
    kit = start_sandbox()  # the default config: delivered within a second or so
    api = Api(kit, ADA)
    endpoint = register(api, hook.url, ["subscriber.created"])
    subscriber = new_subscriber(api, "zoe@example.com")

    [received] = hook.wait_for(1)
    assert received.headers["Content-Type"] == "application/json"
    body = received.json()
    assert list(body) == ["delivery_id", "events"]
    assert isinstance(body["delivery_id"], int)
    assert received.headers["X-Kit-Delivery"] == str(body["delivery_id"])
    [event] = body["events"]
    assert list(event) == ["id", "type", "created", "data"]
    assert uuid.UUID(event["id"]).version == 4
    assert event["type"] == "subscriber.created"
    assert KIT_DATE.fullmatch(event["created"])
    assert event["data"] == {"subscriber": subscriber}

    header = received.headers["X-Kit-Signature"]
    timestamp, v1 = signatures(header)
    assert abs(timestamp - time.time()) < 60
    assert len(v1) == 1
    assert signed_with(endpoint["secret"], header, received.body)
    assert not signed_with("another secret", header, received.body)
    assert not signed_with(endpoint["secret"], header, received.body + b" ")


def test_events_close_together_travel_together_one_type_per_delivery(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    register(api, hook.url, ["subscriber.created", "tag.created"])
    emails = [
        new_subscriber(api, f"reader{n}@example.com")["email_address"] for n in range(3)
    ]
    assert api.post("/v4/tags", json={"name": "Fresh"}).status_code == 201

    deliveries = flush(fast_kit)
    assert sorted((d["event_type"], d["event_count"]) for d in deliveries) == [
        ("subscriber.created", 3),
        ("tag.created", 1),
    ]
    bodies = {r.json()["events"][0]["type"]: r.json() for r in hook.wait_for(2)}
    created = bodies["subscriber.created"]["events"]
    assert [e["data"]["subscriber"]["email_address"] for e in created] == emails
    assert bodies["tag.created"]["events"][0]["data"]["tag"]["name"] == "Fresh"
    assert len({e["id"] for body in bodies.values() for e in body["events"]}) == 4


def test_a_delivery_carries_at_most_100_events(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    register(api, hook.url, ["subscriber.created"])
    for n in range(101):
        new_subscriber(api, f"crowd{n}@example.com")
    flush(fast_kit)
    received = hook.wait_for(2)
    sizes = [len(r.json()["events"]) for r in received]
    assert sorted(sizes) == [1, 100]
    ids = [e["id"] for r in received for e in r.json()["events"]]
    assert len(set(ids)) == 101


def test_api_writes_emit_events_only_when_something_changed(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    register(
        api, hook.url, ["subscriber.created", "subscriber.tag_added", "tag.created"]
    )
    subscriber = new_subscriber(api, "ann@example.com")
    tag = api.post("/v4/tags", json={"name": "Bakers"}).json()["tag"]
    tagged = api.post(
        f"/v4/tags/{tag['id']}/subscribers", json={"email_address": "ann@example.com"}
    )
    assert tagged.status_code == 201
    # The same writes again change nothing, so Kit sends nothing.
    assert (
        api.post(
            "/v4/subscribers", json={"email_address": "ANN@example.com"}
        ).status_code
        == 200
    )
    assert api.post("/v4/tags", json={"name": "bakers"}).status_code == 200
    again = api.post(
        f"/v4/tags/{tag['id']}/subscribers", json={"email_address": "ann@example.com"}
    )
    assert again.status_code == 200

    flush(fast_kit)
    events = {
        r.json()["events"][0]["type"]: r.json()["events"] for r in hook.wait_for(3)
    }
    assert {t: len(e) for t, e in events.items()} == {
        "subscriber.created": 1,
        "tag.created": 1,
        "subscriber.tag_added": 1,
    }
    assert events["tag.created"][0]["data"] == {"tag": tag}
    assert events["subscriber.tag_added"][0]["data"] == {
        "subscriber": subscriber,
        "tag": tag,
    }
    assert len(hook.received) == 3


# -- who gets what ---------------------------------------------------------------------


def test_disabled_endpoints_and_accounts_without_webhooks_get_nothing(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    endpoint = register(api, hook.url, ["subscriber.created"])
    path = f"/v4/webhook_endpoints/{endpoint['id']}"
    unsubscribed = register(api, hook.url, ["tag.created"])  # another type only
    call(api, "PATCH", path, json={"status": "disabled"})
    new_subscriber(api, "paused@example.com")
    assert flush(fast_kit) == []

    call(api, "PATCH", path, json={"status": "active"})
    control(fast_kit, "/webhooks/enabled", account_id=ADA, enabled=False)
    new_subscriber(api, "not-enabled@example.com")
    control(fast_kit, "/webhooks/enabled", account_id=ADA, enabled=True)
    assert flush(fast_kit) == []
    assert hook.received == []

    new_subscriber(api, "live@example.com")
    [delivery] = flush(fast_kit)
    [received] = hook.wait_for(1)
    [event] = received.json()["events"]
    assert event["data"]["subscriber"]["email_address"] == "live@example.com"
    assert delivery["webhook_endpoint_id"] == endpoint["id"]
    assert history(api, unsubscribed["id"]) == []


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


# -- secret rotation -------------------------------------------------------------------


def test_deliveries_carry_both_signatures_during_a_rotation(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    endpoint = register(api, hook.url, ["subscriber.created"])
    path = f"/v4/webhook_endpoints/{endpoint['id']}"
    old = endpoint["secret"]
    new = api.post(path + "/rotate_secret").json()["webhook_endpoint"]["secret"]
    new_subscriber(api, "during@example.com")
    flush(fast_kit)
    [during] = hook.wait_for(1)
    header = during.headers["X-Kit-Signature"]
    assert len(signatures(header)[1]) == 2
    assert signed_with(new, header, during.body)
    assert signed_with(old, header, during.body)

    api.post(path + "/revoke_previous_secret")
    new_subscriber(api, "after@example.com")
    flush(fast_kit)
    after = hook.wait_for(2)[1]
    header = after.headers["X-Kit-Signature"]
    assert len(signatures(header)[1]) == 1
    assert signed_with(new, header, after.body)
    assert not signed_with(old, header, after.body)


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
