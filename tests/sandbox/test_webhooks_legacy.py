"""Kit's legacy webhooks in the sandbox (KIT_PLATFORM.md §5): `/v4/webhooks`
rules, one event each with its required parameter, and their deliveries:
unsigned JSON POSTs, one per event per rule. Webhooks 2.0 refuses the event
types only these carry (purchases, clicks) with 422, as Kit does."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from kit_sandbox import SandboxServer
from kit_sandbox.testing import WebhookReceiver
from tests.sandbox.support import ADA, BEN, Api
from tests.sandbox.webhooks import call, control, flush

ONLY_LEGACY = [
    "purchase.purchase_create",
    "subscriber.product_purchase",
    "subscriber.link_click",
]


def rule(api: Api, url: str, **event: Any) -> dict[str, Any]:
    answer = api.post("/v4/webhooks", json={"target_url": url, "event": event})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()["webhook"]
    return made


@pytest.mark.parametrize("event", ONLY_LEGACY)
def test_webhooks_2_0_refuses_what_only_legacy_carries(api: Api, event: str) -> None:
    answer = api.post(
        "/v4/webhook_endpoints",
        json={"url": "https://example.com/h", "events": [event]},
    )
    assert answer.status_code == 422
    assert answer.json() == {"errors": [f"Event {event} is not available yet"]}


def test_a_rule_is_created_listed_and_deleted_in_kits_shapes(api: Api) -> None:
    made = rule(
        api,
        "https://example.com/in",
        name="subscriber.link_click",
        initiator_value="https://example.com/shop",
    )
    assert set(made) == {"id", "account_id", "event", "target_url"}
    assert made["account_id"] == ADA
    assert made["event"] == {
        "name": "subscriber.link_click",
        "initiator_value": "https://example.com/shop",
    }
    purchase = rule(api, "https://example.com/p", name="purchase.purchase_create")
    listed = api.ok("/v4/webhooks")
    assert [w["id"] for w in listed["webhooks"]] == [made["id"], purchase["id"]]
    assert listed["pagination"]["has_next_page"] is False

    assert call(api, "DELETE", f"/v4/webhooks/{made['id']}").status_code == 204
    assert call(api, "DELETE", f"/v4/webhooks/{made['id']}").status_code == 404
    assert [w["id"] for w in api.ok("/v4/webhooks")["webhooks"]] == [purchase["id"]]
    # Another account's token sees none of them, and cannot delete them.
    ben = Api(api.kit, BEN)
    assert ben.ok("/v4/webhooks")["webhooks"] == []
    assert call(ben, "DELETE", f"/v4/webhooks/{purchase['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {
                "target_url": "https://e.com/h",
                "event": {"name": "subscriber.link_click"},
            },
            "Event initiator_value is required for subscriber.link_click",
        ),
        (
            {
                "target_url": "https://e.com/h",
                "event": {"name": "subscriber.product_purchase", "product_id": "5"},
            },
            "Event product_id is required for subscriber.product_purchase",
        ),
        (
            {"target_url": "https://e.com/h", "event": {"name": "purchase.created"}},
            "Event name purchase.created is not a valid event",
        ),
        ({"target_url": "https://e.com/h"}, "Event name can't be blank"),
        (
            {
                "target_url": "ftp://e.com",
                "event": {"name": "purchase.purchase_create"},
            },
            "Target url is invalid",
        ),
    ],
)
def test_a_rule_kit_would_refuse_is_a_422(
    api: Api, body: dict[str, Any], error: str
) -> None:
    answer = api.post("/v4/webhooks", json=body)
    assert answer.status_code == 422
    assert answer.json() == {"errors": [error]}
    assert api.ok("/v4/webhooks")["webhooks"] == []


def test_the_legacy_api_needs_a_token(fast_kit: SandboxServer) -> None:
    answer = requests.get(f"{fast_kit.url}/v4/webhooks", timeout=5)
    assert answer.status_code == 401


def test_a_purchase_reaches_the_matching_rules_unsigned(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    rule(api, hook.url + "/purchases", name="purchase.purchase_create")
    rule(api, hook.url + "/p501", name="subscriber.product_purchase", product_id=501)
    rule(api, hook.url + "/p999", name="subscriber.product_purchase", product_id=999)
    subscriber = api.ok("/v4/subscribers")["subscribers"][0]

    made = control(
        fast_kit,
        "/webhooks/legacy/purchase",
        account_id=ADA,
        email=subscriber["email_address"],
        product_ids=[501, 503],
    )
    assert made["deliveries"] == {
        "purchase.purchase_create": 1,
        "subscriber.product_purchase": 1,
    }
    flush(fast_kit)
    received = hook.wait_for(2)
    assert len(received) == 2
    for one in received:
        assert "X-Kit-Signature" not in one.headers  # legacy is unsigned
        assert one.headers["Content-Type"] == "application/json"
    by_kind = {
        "purchase" if "id" in r.json() else "subscriber": r.json() for r in received
    }
    purchase = by_kind["purchase"]
    assert purchase["email_address"] == subscriber["email_address"]
    assert [p["name"] for p in purchase["products"]] == [
        "Sourdough masterclass",
        "Printed recipe cards",
    ]
    assert purchase["total"] == 61.5 and purchase["status"] == "paid"
    assert by_kind["subscriber"]["subscriber"]["id"] == subscriber["id"]


def test_a_click_reaches_only_the_rule_for_its_link(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    shop = "https://example.com/shop"
    rule(api, hook.url + "/shop", name="subscriber.link_click", initiator_value=shop)
    rule(
        api,
        hook.url + "/other",
        name="subscriber.link_click",
        initiator_value="https://example.com/other",
    )
    made = control(fast_kit, "/webhooks/legacy/click", account_id=ADA, link=shop)
    assert made["deliveries"] == {"subscriber.link_click": 1}
    flush(fast_kit)
    [received] = hook.wait_for(1)
    assert set(received.json()) == {"subscriber"}
    sent = requests.get(f"{fast_kit.url}/_sandbox/webhooks/legacy", timeout=5).json()
    [delivery] = sent["deliveries"]
    assert delivery["target_url"] == hook.url + "/shop"
    assert delivery["status_code"] == 200


def test_a_deleted_rule_gets_nothing(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    made = rule(api, hook.url, name="purchase.purchase_create")
    assert call(api, "DELETE", f"/v4/webhooks/{made['id']}").status_code == 204
    answer = control(fast_kit, "/webhooks/legacy/purchase", account_id=ADA)
    assert answer["deliveries"]["purchase.purchase_create"] == 0
    flush(fast_kit)
    assert hook.wait_for(1, timeout=0.5) == []


def test_subscriber_activity_reaches_legacy_rules_even_where_2_0_is_off(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    """Where Kit answers 404 to 2.0, the legacy rules still get their events."""
    control(fast_kit, "/webhooks/enabled", account_id=ADA, enabled=False)
    assert api.get("/v4/webhook_endpoints").status_code == 404
    rule(api, hook.url + "/unsub", name="subscriber.subscriber_unsubscribe")
    made = control(fast_kit, "/activity", account_id=ADA, kind="burst")
    unsubscribed = made["events"]["subscriber.unsubscribed"]
    assert unsubscribed >= 1
    flush(fast_kit)
    received = hook.wait_for(unsubscribed)
    assert len(received) == unsubscribed
    for one in received:
        body = one.json()
        assert set(body) == {"subscriber"}
        assert body["subscriber"]["state"] == "cancelled"


def test_the_activity_page_makes_a_purchase_and_a_click(
    api: Api, fast_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    rule(api, hook.url, name="purchase.purchase_create")
    rule(api, hook.url, name="subscriber.link_click", initiator_value="https://x.io/a")
    page = requests.get(f"{fast_kit.url}/_sandbox/activity", timeout=5).text
    assert 'value="purchase">Make a purchase' in page
    assert "<code>purchase.purchase_create</code>" in page  # the account's rules
    with requests.Session() as browser:
        done = browser.post(
            f"{fast_kit.url}/_sandbox/activity",
            data={"account_id": str(ADA), "kind": "purchase"},
            timeout=5,
        )
    assert done.status_code == 200  # followed the 303 back to the page
    assert "1 legacy webhook deliveries" in done.text
    # "Click a link" clicks the link a rule follows.
    clicked = control(fast_kit, "/activity", account_id=ADA, kind="click")
    assert clicked["events"] == {"subscriber.link_click": 1}
    flush(fast_kit)
    bodies = [received.json() for received in hook.wait_for(2)]
    assert any("products" in body for body in bodies)
    assert any(set(body) == {"subscriber"} for body in bodies)
