"""Make activity: real changes to a demo account and the Webhooks 2.0 events
Kit would send for them, through the control API and the sandbox's page."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxServer
from kit_sandbox.testing import WebhookReceiver, forms
from kit_sandbox.webhooks import EVENT_TYPES
from tests.sandbox.support import ADA, BEN, CHLOE, Api, StartSandbox
from tests.sandbox.webhooks import control, flush, register

BURST = {
    "subscriber.created": 3,
    "subscriber.subscribed_to_form": 1,
    "subscriber.added_to_sequence": 1,
    "subscriber.activated": 1,
    "subscriber.tag_added": 3,
    "subscriber.tag_removed": 1,
    "subscriber.unsubscribed": 2,
    "subscriber.bounced": 1,
    "subscriber.complained": 1,
}


@pytest.fixture
def quiet_kit(start_sandbox: StartSandbox) -> SandboxServer:
    """Batches cut by a flush (or at 100 events), not by the clock."""
    return start_sandbox(webhook_batch_seconds=60)


def events_by_type(hook: WebhookReceiver, deliveries: int) -> dict[str, list[dict]]:
    """What the receiver got, per type, checking one type per delivery."""
    found: dict[str, list[dict]] = {}
    for received in hook.wait_for(deliveries):
        events = received.json()["events"]
        assert len({event["type"] for event in events}) == 1
        found.setdefault(events[0]["type"], []).extend(events)
    return found


def state_of(api: Api, email: str) -> str:
    [subscriber] = api.ok("/v4/subscribers", status="all", email_address=email)[
        "subscribers"
    ]
    state: str = subscriber["state"]
    return state


def test_a_burst_changes_the_account_and_emits_what_changed(
    quiet_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    api = Api(quiet_kit, ADA)
    register(api, hook.url, list(EVENT_TYPES))
    active_before = api.ok("/v4/subscribers", include_total_count="true")

    answer = control(quiet_kit, "/activity", account_id=ADA, kind="burst")
    assert answer == {"account_id": ADA, "kind": "burst", "events": BURST}
    deliveries = flush(quiet_kit)
    assert Counter(d["event_type"] for d in deliveries) == Counter(set(BURST))
    events = events_by_type(hook, len(BURST))
    assert {kind: len(found) for kind, found in events.items()} == BURST

    def emails(kind: str) -> list[str]:
        return [e["data"]["subscriber"]["email_address"] for e in events[kind]]

    for email in emails("subscriber.created"):
        assert state_of(api, email) == "active"
    for kind, state in [
        ("subscriber.unsubscribed", "cancelled"),
        ("subscriber.bounced", "bounced"),
        ("subscriber.complained", "complained"),
        ("subscriber.activated", "active"),
    ]:
        for event in events[kind]:
            assert event["data"]["subscriber"]["state"] == state
            assert state_of(api, event["data"]["subscriber"]["email_address"]) == state
    # 3 new, 1 confirmed, 4 gone: the active count moved by exactly that.
    active_after = api.ok("/v4/subscribers", include_total_count="true")
    assert active_after["total_count"] == active_before["total_count"] + 3 + 1 - 4

    [form_event] = events["subscriber.subscribed_to_form"]
    assert set(form_event["data"]) == {"subscriber", "form"}
    assert form_event["data"]["subscriber"]["email_address"] in emails(
        "subscriber.created"
    )
    [sequence_event] = events["subscriber.added_to_sequence"]
    assert set(sequence_event["data"]) == {"subscriber", "sequence"}
    [removed] = events["subscriber.tag_removed"]
    tag_id = removed["data"]["tag"]["id"]
    still_tagged = api.walk(f"/v4/tags/{tag_id}/subscribers", status="all")
    tagged_ids = [s["id"] for page in still_tagged for s in page["subscribers"]]
    assert removed["data"]["subscriber"]["id"] not in tagged_ids
    for added in events["subscriber.tag_added"]:
        assert set(added["data"]) == {"subscriber", "tag"}


def test_a_batch_is_one_delivery_of_100_tag_added_events(
    quiet_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    api = Api(quiet_kit, ADA)
    endpoint = register(api, hook.url, ["subscriber.tag_added", "tag.created"])
    # A few tag_added events already queued must not join the bulk action's.
    control(quiet_kit, "/activity", account_id=ADA, kind="burst")

    answer = control(quiet_kit, "/activity", account_id=ADA, kind="batch")
    assert answer["events"] == {"subscriber.tag_added": 100}
    [bulk] = hook.wait_for(1)  # a bulk action goes out without a flush
    events = bulk.json()["events"]
    assert len(events) == 100
    assert {e["type"] for e in events} == {"subscriber.tag_added"}
    assert len({e["id"] for e in events}) == 100
    assert len({e["data"]["subscriber"]["id"] for e in events}) == 100
    [tag_id] = {e["data"]["tag"]["id"] for e in events}
    tagged = api.walk(f"/v4/tags/{tag_id}/subscribers")
    tagged_ids = {s["id"] for page in tagged for s in page["subscribers"]}
    assert {e["data"]["subscriber"]["id"] for e in events} <= tagged_ids

    flush(quiet_kit)
    sizes = sorted(len(r.json()["events"]) for r in hook.wait_for(2))
    assert sizes == [3, 100]  # the burst's three, apart
    history = api.ok(f"/v4/webhook_endpoints/{endpoint['id']}/deliveries")
    assert sorted(d["event_count"] for d in history["deliveries"]) == [3, 100]


def test_a_batch_on_a_small_list_adds_the_subscribers_it_needs(
    quiet_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    api = Api(quiet_kit, BEN)
    register(api, hook.url, ["subscriber.tag_added", "subscriber.created"])
    answer = control(quiet_kit, "/activity", account_id=BEN, kind="batch")
    created = answer["events"]["subscriber.created"]
    assert created > 0
    assert answer["events"]["subscriber.tag_added"] == 100
    flush(quiet_kit)
    sizes = Counter(
        (r.json()["events"][0]["type"], len(r.json()["events"]))
        for r in hook.wait_for(2)
    )
    assert sizes == Counter(
        {("subscriber.tag_added", 100): 1, ("subscriber.created", created): 1}
    )


def test_activity_works_without_endpoints_and_on_an_empty_account(
    quiet_kit: SandboxServer,
) -> None:
    answer = control(quiet_kit, "/activity", account_id=CHLOE, kind="burst")
    # No forms, sequences, tags or subscribers to start from: what can happen does.
    assert answer["events"] == {
        "subscriber.created": 3,
        "tag.created": 1,
        "subscriber.tag_added": 3,
    }
    api = Api(quiet_kit, CHLOE)
    assert len(api.ok("/v4/subscribers")["subscribers"]) == 3
    assert [t["name"] for t in api.ok("/v4/tags")["tags"]] == ["Activity"]
    again = control(quiet_kit, "/activity", account_id=CHLOE, kind="burst")
    assert again["events"]["subscriber.unsubscribed"] == 2  # now there are readers


def test_activity_is_the_same_after_a_reset(quiet_kit: SandboxServer) -> None:
    def burst_emails() -> list[str]:
        control(quiet_kit, "/activity", account_id=ADA, kind="burst")
        newest = Api(quiet_kit, ADA).ok("/v4/subscribers", per_page=3)["subscribers"]
        return [subscriber["email_address"] for subscriber in newest]

    first = burst_emails()
    requests.post(f"{quiet_kit.url}/_sandbox/reset", timeout=5).raise_for_status()
    assert burst_emails() == first


def _page(quiet_kit: SandboxServer) -> str:
    page = requests.get(f"{quiet_kit.url}/_sandbox/activity", timeout=5)
    assert page.status_code == 200
    return page.text


def test_the_activity_page_makes_activity_for_each_account(
    quiet_kit: SandboxServer, hook: WebhookReceiver
) -> None:
    home = requests.get(f"{quiet_kit.url}/", timeout=5).text
    assert 'href="/_sandbox/activity"' in home
    register(Api(quiet_kit, ADA), hook.url, ["subscriber.created"])

    html = _page(quiet_kit)
    found = forms(html, quiet_kit.url)
    assert len(found) == len(quiet_kit.state.accounts)
    ada_form = next(f for f in found if f.fields["account_id"] == str(ADA))
    assert ("kind", "burst") in ada_form.buttons
    assert ("kind", "batch") in ada_form.buttons
    assert hook.url in html  # Ada's endpoint is listed

    data: dict[str, Any] = dict(ada_form.fields, kind="burst")
    clicked = requests.post(
        ada_form.action, data=data, allow_redirects=False, timeout=5
    )
    assert clicked.status_code == 303
    assert clicked.headers["Location"].endswith("/_sandbox/activity")
    after = requests.get(
        quiet_kit.url + "/_sandbox/activity", cookies=clicked.cookies, timeout=5
    ).text
    assert "Ada&#39;s Kitchen: 14 events" in after
    flush(quiet_kit)
    [received] = hook.wait_for(1)
    assert len(received.json()["events"]) == 3
    assert "Delivery 700001" in _page(quiet_kit)
