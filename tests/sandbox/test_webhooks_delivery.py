"""Webhooks 2.0 deliveries (KIT_PLATFORM.md §5a) to a receiver run by the test:
signed as documented, batched (1 to 100 events of one type), sent only to live
endpoints of accounts with webhooks, signed with both secrets during a rotation.
Retries, Retry-After and the history are test_webhooks_retries.py.

Most tests use a long batch window and ``/_sandbox/webhooks/flush`` (``fast_kit``
in conftest.py), so what travels together is decided by the test, not by timing.
"""

from __future__ import annotations

import time
import uuid

from kit_sandbox import SandboxServer
from kit_sandbox.testing import WebhookReceiver
from tests.sandbox.support import ADA, KIT_DATE, Api, StartSandbox
from tests.sandbox.webhooks import (
    call,
    control,
    flush,
    history,
    new_subscriber,
    register,
    signatures,
    signed_with,
)

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
