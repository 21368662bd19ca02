"""Events only Kit's legacy webhooks carry (purchases, product purchases, link
clicks), against the sandbox over HTTP: subscribed per event through
`/v4/webhooks` (Webhooks 2.0 refuses them with 422), and wholesale where 2.0
answers 404; proven by a key in the URL kept only hashed; stored once (legacy
deliveries have no event id); in the activity feed's words; deleted at Kit on
disconnect. Runs on PostgreSQL too with TEST_DATABASE_URL.
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select, text

from app.extensions import db
from app.models import LegacyWebhook
from app.webhooks import legacy
from app.webhooks.legacy_follow import follow
from app.webhooks.legacy_rules import register_legacy_rules
from tests.support.accounts import create_user, signed_in
from tests.support.installing import connect, first_account, install
from tests.support.rows import add_connection, stored
from tests.support.webhooks import stored_events

SHOP = "https://example.com/shop"
PURCHASE = {
    "id": 8,
    "transaction_id": "123-abcd-456-efgh",
    "status": "paid",
    "email_address": "crashoverride@hackers.com",
    "currency": "JPY",
    "transaction_time": "2018-03-17T11:28:04Z",
    "total": 21.0,
    "products": [
        {"unit_price": 5.0, "quantity": 2, "sku": "7890-ijkl", "name": "Floppy Disk"},
        {"unit_price": 10.0, "quantity": 1, "sku": "mnop-1234", "name": "Cord"},
    ],
}
CLICK = {"subscriber": {"id": 41, "email_address": "ada@example.com"}}


def kit_rules(kit) -> list[dict]:  # type: ignore[no-untyped-def]
    with kit.state.lock:
        return [rule.to_api() for rule in kit.state.webhooks.legacy.rules.values()]


def rules(app) -> list[LegacyWebhook]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(LegacyWebhook).order_by("id")))


def run(app, task, *args):  # type: ignore[no-untyped-def]
    with app.app_context():
        return task(*args)


def control(kit, path: str, **body) -> dict:  # type: ignore[no-untyped-def]
    answer = requests.post(f"{kit.url}/_sandbox{path}", json=body, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_for_events(app, count: int) -> list:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while len(stored_events(app)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return stored_events(app)


def key_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def add_rule(app, event: str = "purchase.purchase_create", param: str = "") -> str:  # type: ignore[no-untyped-def]
    """Connection 1 with an active rule for `event`; returns its key."""
    key = legacy.new_key()
    with app.app_context():
        db.session.add(
            LegacyWebhook(
                connection_id=1,
                event=event,
                param=param,
                key_hash=legacy.key_hash(key),
                kit_rule_id="9001",
                status=LegacyWebhook.ACTIVE,
            )
        )
        db.session.commit()
    return key


def post(client, key: str, body, content_type="application/json"):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"/webhooks/kit/legacy/{key}", data=data, content_type=content_type
    )


# --- subscribed, and delivered end to end ------------------------------------------


def test_install_subscribes_purchases_and_a_live_app_stores_them(
    served_app, kit, kit_browser
):
    app, client = served_app, served_app.test_client()
    signed_in(client)
    install(client, kit_browser)
    [row] = rules(app)
    assert (row.event, row.param, row.status) == (
        "purchase.purchase_create",
        "",
        "active",
    )
    [at_kit] = kit_rules(kit)
    assert at_kit["event"]["name"] == "purchase.purchase_create"
    base = app.config["PUBLIC_BASE_URL"]
    assert at_kit["target_url"].startswith(f"{base}/webhooks/kit/legacy/")
    key = key_of(at_kit["target_url"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert str(at_kit["id"]) == row.kit_rule_id
    with app.app_context():  # the key itself is nowhere in the database
        dump = "\n".join(
            str(r) for r in db.session.execute(text("SELECT * FROM legacy_webhooks"))
        )
    assert key not in dump

    buyer = first_account(kit)
    made = control(
        kit, "/webhooks/legacy/purchase", account_id=buyer.id, product_ids=[501]
    )
    assert made["deliveries"]["purchase.purchase_create"] == 1
    kit.state.webhooks.flush(timeout=10)
    [event] = wait_for_events(app, 1)
    assert event.type == "purchase.purchase_create"
    assert event.subject == "Sourdough masterclass · 49.00 USD"
    assert event.subscriber_email
    assert event.event_id.startswith("purchase-")
    [sent] = kit.state.webhooks.legacy.sent
    assert sent.status_code == 200

    page = client.get("/c/1/activity")
    assert f"{event.subscriber_email}" in page.text
    assert "bought «Sourdough masterclass · 49.00 USD»" in page.text


def test_a_followed_link_and_product_get_rules_of_their_own(
    served_app, kit, kit_browser
):
    app, client = served_app, served_app.test_client()
    signed_in(client)
    install(client, kit_browser)
    with app.app_context():
        follow(1, "subscriber.link_click", SHOP)
        follow(1, "subscriber.product_purchase", "502")
    assert run(app, register_legacy_rules, 1) == "active"
    events = {r["event"]["name"]: r["event"] for r in kit_rules(kit)}
    assert events["subscriber.link_click"]["initiator_value"] == SHOP
    assert events["subscriber.product_purchase"]["product_id"] == 502
    assert [r.status for r in rules(app)] == ["active"] * 3
    # Run again: nothing new at Kit (the rules found are ours by their keys).
    assert run(app, register_legacy_rules, 1) == "active"
    assert len(kit_rules(kit)) == 3

    clicker = control(
        kit, "/webhooks/legacy/click", account_id=first_account(kit).id, link=SHOP
    )
    assert clicker["deliveries"] == {"subscriber.link_click": 1}
    kit.state.webhooks.flush(timeout=10)
    [event] = wait_for_events(app, 1)
    assert (event.type, event.subject) == ("subscriber.link_click", SHOP)
    assert f"clicked «{SHOP}»" in client.get("/c/1/activity").text
    assert "Link clicks" in client.get("/c/1/activity").text  # the filter


@pytest.mark.parametrize(
    ("event", "param"),
    [
        ("subscriber.link_click", "javascript:alert(1)"),
        ("subscriber.product_purchase", "abc"),
        ("subscriber.tag_add", "3"),
    ],
)
def test_only_a_product_id_or_a_link_can_be_followed(app, event, param):
    add_connection(app)
    with app.app_context(), pytest.raises(ValueError):
        follow(1, event, param)
    assert rules(app) == []


def test_where_2_0_answers_404_the_subscriber_events_come_through_legacy(
    served_app, kit, kit_browser
):
    app, client = served_app, served_app.test_client()
    account = first_account(kit)
    kit.state.webhooks.set_enabled(account.id, False)  # 2.0: 404
    signed_in(client)
    install(client, kit_browser)
    names = sorted(r["event"]["name"] for r in kit_rules(kit))
    assert names == sorted(["purchase.purchase_create", *legacy.AS_2_0])

    control(kit, "/activity", account_id=account.id, kind="burst")
    kit.state.webhooks.flush(timeout=10)
    deadline = time.monotonic() + 10
    wanted = {"subscriber.unsubscribed", "subscriber.bounced"}
    while time.monotonic() < deadline and not wanted <= {
        e.type for e in stored_events(app)
    }:
        time.sleep(0.05)
    assert wanted <= {e.type for e in stored_events(app)}
    page = client.get("/c/1/activity").text
    assert "unsubscribed" in page
    assert "events come through its older ones" in page
    assert "Events are not available" not in page
    assert "Some events only" in client.get("/c/1").text


# --- receiving: proven by the key, stored once --------------------------------------


def test_a_delivery_is_stored_once_however_often_it_comes(app, client):
    add_connection(app)
    purchases = add_rule(app)
    clicks = add_rule(app, "subscriber.link_click", SHOP)
    assert post(client, purchases, PURCHASE).json == {"received": 1, "stored": 1}
    assert post(client, purchases, PURCHASE).json == {"received": 1, "stored": 0}
    assert post(client, purchases, {"purchase": PURCHASE}).json["stored"] == 0
    assert post(client, clicks, CLICK).json == {"received": 1, "stored": 1}
    assert post(client, clicks, CLICK).json == {"received": 1, "stored": 0}
    other = {"subscriber": {"id": 42, "email_address": "bo@example.com"}}
    assert post(client, clicks, other).json["stored"] == 1

    rows = stored_events(app)
    assert [(r.type, r.event_id[:9], r.subscriber_email) for r in rows] == [
        ("purchase.purchase_create", "purchase-", "crashoverride@hackers.com"),
        ("subscriber.link_click", "legacy-" + rows[1].event_id[7:9], "ada@example.com"),
        ("subscriber.link_click", "legacy-" + rows[2].event_id[7:9], "bo@example.com"),
    ]
    assert rows[0].occurred_at == datetime(2018, 3, 17, 11, 28, 4, tzinfo=UTC)
    assert rows[0].subject == "Floppy Disk, Cord · 21.00 JPY"


def test_copies_delivered_at_once_are_stored_once(app):
    add_connection(app)
    purchases, clicks = add_rule(app), add_rule(app, "subscriber.link_click", SHOP)

    def one(n: int):  # type: ignore[no-untyped-def]
        key, body = (purchases, PURCHASE) if n % 2 else (clicks, CLICK)
        return post(app.test_client(), key, body)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(16)))
    assert [a.status_code for a in answers] == [200] * 16
    assert sum(a.json["stored"] for a in answers) == 2
    assert len(stored_events(app)) == 2


def test_the_same_click_within_ten_minutes_is_one_event_and_later_another(app):
    add_connection(app)
    key = add_rule(app, "subscriber.link_click", SHOP)
    window = legacy.SAME_EVENT_WINDOW
    # Two minutes before a window ends: the copy lands in the next window.
    start = datetime.fromtimestamp(
        (time.time() // window.total_seconds() + 1) * window.total_seconds(), UTC
    ) - timedelta(minutes=2)
    raw = json.dumps(CLICK).encode()
    with app.app_context():
        rule = legacy.receiver(key)
        assert rule is not None
        stored = [
            legacy.store(rule, legacy.parse(rule, raw, start + delay))
            for delay in (
                timedelta(0),
                timedelta(minutes=3),  # next window, 3 minutes after: a copy
                timedelta(minutes=11),  # a click again
            )
        ]
    assert stored == [1, 0, 1]


@pytest.mark.parametrize(
    ("key", "body", "status"),
    [
        ("not-a-key", PURCHASE, 404),
        ("x" * 32, PURCHASE, 404),  # of our shape, but no rule's
        ("RULE", b"{not json", 400),
        ("RULE", {"id": "8"}, 400),
        ("RULE", [PURCHASE], 400),
        ("CLICKS", {"id": 8}, 400),
        ("CLICKS", {"subscriber": {"id": True}}, 400),
    ],
)
def test_a_refused_delivery_stores_nothing(app, client, key, body, status):
    add_connection(app)
    keys = {
        "RULE": add_rule(app),
        "CLICKS": add_rule(app, "subscriber.link_click", SHOP),
    }
    answer = post(client, keys.get(key, key), body)
    assert answer.status_code == status
    assert stored_events(app) == []


def test_a_delivery_of_another_type_is_refused(app, client):
    add_connection(app)
    answer = post(client, add_rule(app), PURCHASE, content_type="text/plain")
    assert 400 <= answer.status_code < 500
    assert stored_events(app) == []


# --- disconnect ----------------------------------------------------------------------


def test_disconnect_deletes_the_rules_at_kit_and_later_deliveries_get_410(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    with app.app_context():
        follow(1, "subscriber.link_click", SHOP)
    run(app, register_legacy_rules, 1)
    keys = [key_of(r["target_url"]) for r in kit_rules(kit)]
    assert len(keys) == 2
    assert client.post("/connections/1/disconnect").status_code == 302
    assert stored(app).status == "revoked"
    assert kit_rules(kit) == []
    assert {r.status for r in rules(app)} == {"gone"}
    assert post(client, keys[0], PURCHASE).status_code == 410
    assert stored_events(app) == []

    # Connected again: new rules at Kit, under new keys.
    install(client, kit_browser)
    again = [key_of(r["target_url"]) for r in kit_rules(kit)]
    assert len(again) == 2 and not set(again) & set(keys)
    assert post(client, keys[0], PURCHASE).status_code == 404


def test_disconnect_with_kit_down_keeps_everything(app, client, kit, kit_browser, user):
    install(client, kit_browser)
    [before] = kit_rules(kit)
    kit.state.add_fault("api", "500", times=10)
    answer = client.post("/connections/1/disconnect")
    assert answer.status_code == 503
    assert stored(app).status == "active"
    kit.state.clear_faults()
    assert kit_rules(kit) == [before]
    assert rules(app)[0].status == "active"


def test_a_revoke_that_fails_puts_the_rules_back(app, client, kit, kit_browser, user):
    install(client, kit_browser)
    kit.state.add_fault("revoke", "500")
    assert client.post("/connections/1/disconnect").status_code == 503
    assert stored(app).status == "active"
    [again] = kit_rules(kit)  # deleted before the revoke, created again after
    assert again["event"]["name"] == "purchase.purchase_create"
    assert rules(app)[0].key_hash == legacy.key_hash(key_of(again["target_url"]))


def test_a_new_public_url_moves_the_rules_and_another_origins_are_left(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    [old] = kit_rules(kit)
    staging = "https://staging.example.com/webhooks/kit/legacy/" + "s" * 32
    with kit.state.lock:
        account = first_account(kit).id
        kit.state.webhooks.legacy.create_rule(
            kit.config.client_id, account, "purchase.purchase_create", None, staging
        )
    app.config["PUBLIC_BASE_URL"] = "https://new.example.com"
    assert run(app, register_legacy_rules, 1) == "active"
    urls = sorted(r["target_url"] for r in kit_rules(kit))
    assert len(urls) == 2 and staging in urls and old["target_url"] not in urls
    [moved] = [url for url in urls if url != staging]
    assert moved.startswith("https://new.example.com/webhooks/kit/legacy/")
    assert rules(app)[0].key_hash == legacy.key_hash(key_of(moved))


def test_registrations_at_once_leave_one_rule(app, kit):
    create_user(app)
    connect(app, kit)

    def one(_: int) -> str:
        return run(app, register_legacy_rules, 1)

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(one, range(4))) == {"active"}
    [at_kit] = kit_rules(kit)
    [row] = rules(app)
    assert (row.status, row.kit_rule_id) == ("active", str(at_kit["id"]))
    assert row.key_hash == legacy.key_hash(key_of(at_kit["target_url"]))
