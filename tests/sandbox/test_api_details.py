"""API v4 for a record's own page: one subscriber and its tags, tagging and
untagging by id (and untagging by email), one broadcast, and every
broadcast's stats with Kit's filters and cursors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxServer
from kit_sandbox.testing import WebhookReceiver
from tests.sandbox.support import (
    ADA,
    BEN,
    KIT_DATE,
    LISTS,
    SUBSCRIBER_KEYS,
    Api,
    StartSandbox,
    item_ids,
    utc_today,
)
from tests.sandbox.webhooks import call, flush, register

NOT_FOUND = {"errors": ["Not Found"]}
STATS_KEYS = ["id", "subject", "send_at", "status", "published_at", "stats"]
RATE_KEYS = [
    "recipients",
    "open_rate",
    "emails_opened",
    "click_rate",
    "unsubscribe_rate",
    "unsubscribes",
    "total_clicks",
    "show_total_clicks",
    "status",
    "progress",
]


def first(api: Api, path: str, **params: Any) -> dict[str, Any]:
    root = LISTS[path][0]
    item: dict[str, Any] = api.ok(path, per_page=1, **params)[root][0]
    return item


def new_subscriber(api: Api, email: str) -> dict[str, Any]:
    answer = api.post("/v4/subscribers", json={"email_address": email})
    assert answer.status_code == 201, answer.text
    subscriber: dict[str, Any] = answer.json()["subscriber"]
    return subscriber


def new_tag(api: Api, name: str) -> dict[str, Any]:
    tag: dict[str, Any] = api.post("/v4/tags", json={"name": name}).json()["tag"]
    return tag


def tag_names(api: Api, subscriber_id: int) -> list[str]:
    tags = api.ok(f"/v4/subscribers/{subscriber_id}/tags")["tags"]
    return [tag["name"] for tag in tags]


# -- one subscriber ------------------------------------------------------------


def test_a_subscriber_by_id_in_any_state(ada: Api) -> None:
    for state in ("active", "bounced", "cancelled"):
        listed = first(ada, "/v4/subscribers", status=state)
        answer = ada.ok(f"/v4/subscribers/{listed['id']}")
        assert answer == {"subscriber": listed}
        assert list(answer["subscriber"]) == [*SUBSCRIBER_KEYS, "fields"]


@pytest.mark.parametrize("path", ["/v4/subscribers/{}", "/v4/subscribers/{}/tags"])
def test_another_accounts_or_an_unknown_subscriber_is_not_found(
    fresh_kit: SandboxServer, path: str
) -> None:
    ada, ben = Api(fresh_kit, ADA), Api(fresh_kit, BEN)
    bens = first(ben, "/v4/subscribers")["id"]
    for subscriber_id in (bens, 1, 99_999_999, "abc", "-5"):
        response = ada.get(path.format(subscriber_id))
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_email_search_with_status_all_finds_a_bounced_subscriber(ada: Api) -> None:
    bounced = first(ada, "/v4/subscribers", status="bounced")
    email = bounced["email_address"].upper()
    assert ada.ok("/v4/subscribers", email_address=email)["subscribers"] == []
    found = ada.ok("/v4/subscribers", status="all", email_address=email)
    assert found["subscribers"] == [bounced]


# -- a subscriber's tags, tagging and untagging by id ---------------------------


def test_a_subscribers_tags_newest_tagging_first(ada: Api) -> None:
    everyone = ada.walk("/v4/subscribers", status="all", per_page=1000)
    seeded = [s["id"] for page in everyone for s in page["subscribers"]]
    lists = [ada.ok(f"/v4/subscribers/{sid}/tags")["tags"] for sid in seeded[:60]]
    assert any(len(tags) >= 2 for tags in lists)
    assert any(tags == [] for tags in lists)
    for tags in lists:
        assert all(list(tag) == ["id", "name", "tagged_at"] for tag in tags)
        assert all(KIT_DATE.fullmatch(tag["tagged_at"]) for tag in tags)
        moments = [tag["tagged_at"] for tag in tags]
        assert moments == sorted(moments, reverse=True)

    # Walking one tag at a time gives the same list, forwards and back.
    sid = seeded[next(i for i, tags in enumerate(lists) if len(tags) >= 2)]
    whole = ada.ok(f"/v4/subscribers/{sid}/tags")["tags"]
    pages = ada.walk(f"/v4/subscribers/{sid}/tags", per_page=1)
    assert [page["tags"][0] for page in pages] == whole
    back = ada.walk(
        f"/v4/subscribers/{sid}/tags",
        "before",
        per_page=1,
        before=pages[-1]["pagination"]["start_cursor"],
    )
    assert [page["tags"][0] for page in back] == whole[-2::-1]


def test_tag_and_untag_a_subscriber_by_id(ada: Api) -> None:
    subscriber = new_subscriber(ada, "tess@example.com")
    soup, bread = new_tag(ada, "Soup"), new_tag(ada, "Bread")
    path = f"/v4/tags/{soup['id']}/subscribers/{subscriber['id']}"
    created = ada.post(path)
    assert created.status_code == 201
    tagged = created.json()["subscriber"]
    assert list(tagged) == [*SUBSCRIBER_KEYS, "tagged_at", "fields"]
    assert tagged["id"] == subscriber["id"]
    again = ada.post(path)
    assert again.status_code == 200
    assert again.json()["subscriber"] == tagged  # the first tagged_at stays
    assert ada.post(f"/v4/tags/{bread['id']}/subscribers/{subscriber['id']}").ok
    # Same second: the later tag (higher id) comes first.
    assert tag_names(ada, subscriber["id"]) == ["Bread", "Soup"]

    removed = call(ada, "DELETE", path)
    assert removed.status_code == 204
    assert removed.content == b""
    assert tag_names(ada, subscriber["id"]) == ["Bread"]
    listed = ada.ok(f"/v4/tags/{soup['id']}/subscribers", status="all")
    assert listed["subscribers"] == []
    # Untagging someone who hasn't the tag: 204 as well (the sandbox's choice).
    assert call(ada, "DELETE", path).status_code == 204


def test_tag_writes_by_id_are_404_for_what_the_account_lacks(
    fresh_kit: SandboxServer,
) -> None:
    ada, ben = Api(fresh_kit, ADA), Api(fresh_kit, BEN)
    tag = first(ada, "/v4/tags")["id"]
    subscriber = first(ada, "/v4/subscribers")["id"]
    bens_subscriber = first(ben, "/v4/subscribers")["id"]
    bens_tag = first(ben, "/v4/tags")["id"]
    for tag_id, subscriber_id in (
        (1, subscriber),
        (bens_tag, subscriber),
        (tag, 1),
        (tag, bens_subscriber),
    ):
        path = f"/v4/tags/{tag_id}/subscribers/{subscriber_id}"
        for method in ("POST", "DELETE"):
            response = call(ada, method, path)
            assert response.status_code == 404, (method, path)
            assert response.json() == NOT_FOUND


def test_untag_by_email(ada: Api) -> None:
    subscriber = new_subscriber(ada, "uma@example.com")
    tag = new_tag(ada, "Pickles")
    path = f"/v4/tags/{tag['id']}/subscribers"
    assert ada.post(path, json={"email_address": "uma@example.com"}).status_code == 201
    removed = call(ada, "DELETE", path, json={"email_address": "UMA@example.com"})
    assert removed.status_code == 204
    assert tag_names(ada, subscriber["id"]) == []
    assert call(ada, "DELETE", path, json={"email_address": "uma@example.com"}).ok

    unknown_tag = call(
        ada, "DELETE", "/v4/tags/1/subscribers", json={"email_address": "a@b.co"}
    )
    assert (unknown_tag.status_code, unknown_tag.json()) == (404, NOT_FOUND)
    for body, message in (
        ({"email_address": "nobody@example.com"}, "Subscriber not found"),
        ({"email_address": "nope"}, "Email address is invalid"),
        ({}, "Email address is invalid"),
    ):
        refused = call(ada, "DELETE", path, json=body)
        assert refused.status_code == 422
        assert refused.json() == {"errors": [message]}


def test_untagging_emits_tag_removed_only_when_a_tag_goes(
    start_sandbox: StartSandbox,
) -> None:
    kit = start_sandbox(webhook_batch_seconds=60)
    api = Api(kit, ADA)
    subscriber = new_subscriber(api, "vic@example.com")
    tag = new_tag(api, "Jam")
    by_id = f"/v4/tags/{tag['id']}/subscribers/{subscriber['id']}"
    by_email = f"/v4/tags/{tag['id']}/subscribers"
    assert api.post(by_id).status_code == 201
    with WebhookReceiver() as hook:
        register(api, hook.url, ["subscriber.tag_removed", "subscriber.tag_added"])
        assert call(api, "DELETE", by_id).status_code == 204
        assert call(api, "DELETE", by_id).status_code == 204  # no tag, no event
        assert api.post(by_id).status_code == 201
        email = {"email_address": "vic@example.com"}
        assert call(api, "DELETE", by_email, json=email).status_code == 204
        flush(kit)
        received = hook.wait_for(2)
    events: dict[str, list[dict[str, Any]]] = {}
    for delivery in received:
        for event in delivery.json()["events"]:
            events.setdefault(event["type"], []).append(event)
    assert len(events["subscriber.tag_added"]) == 1
    removed = events["subscriber.tag_removed"]
    assert [event["data"] for event in removed] == [
        {"subscriber": subscriber, "tag": tag}
    ] * 2


def test_tag_subscriber_count_from_one_item_pages(ada: Api) -> None:
    counts = {}
    for tag in ada.ok("/v4/tags")["tags"]:
        path = f"/v4/tags/{tag['id']}/subscribers"
        answer = ada.ok(path, per_page=1, include_total_count="true")
        assert len(answer["subscribers"]) == min(answer["total_count"], 1)
        walked = ada.walk(path, per_page=1000)
        assert answer["total_count"] == len(item_ids(walked))
        assert "total_count" not in ada.ok(path, per_page=1)
        counts[tag["name"]] = answer["total_count"]
    assert counts["Masterclass Waitlist"] == 0
    assert max(counts.values()) > 10 * sorted(counts.values())[2]


# -- broadcasts ----------------------------------------------------------------


def test_a_broadcast_by_id_is_its_list_item(fresh_kit: SandboxServer) -> None:
    ada, ben = Api(fresh_kit, ADA), Api(fresh_kit, BEN)
    for broadcast in ada.ok("/v4/broadcasts", per_page=5)["broadcasts"]:
        assert ada.ok(f"/v4/broadcasts/{broadcast['id']}") == {"broadcast": broadcast}
    bens = first(ben, "/v4/broadcasts")["id"]
    for broadcast_id in (bens, 1, "abc"):
        response = ada.get(f"/v4/broadcasts/{broadcast_id}")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_broadcast_stats_list_every_broadcast_newest_first(ada: Api) -> None:
    listed = ada.ok("/v4/broadcasts", include_total_count="true")
    stats = ada.ok("/v4/broadcasts/stats", include_total_count="true")
    assert stats["total_count"] == listed["total_count"] >= 25
    assert item_ids([stats], "broadcasts") == item_ids([listed], "broadcasts")
    for item, broadcast in zip(stats["broadcasts"], listed["broadcasts"], strict=True):
        assert list(item) == STATS_KEYS
        assert list(item["stats"]) == RATE_KEYS
        assert item == {key: broadcast.get(key) for key in STATS_KEYS[:-1]} | {
            "stats": ada.ok(f"/v4/broadcasts/{item['id']}/stats")["broadcast"]["stats"]
        }
    completed = [b["stats"] for b in stats["broadcasts"] if b["status"] == "completed"]
    assert all(30 <= s["open_rate"] <= 60 for s in completed)
    assert all(1 <= s["click_rate"] <= 10 for s in completed)
    assert any(s["unsubscribes"] for s in completed)

    pages = ada.walk("/v4/broadcasts/stats", per_page=7)
    assert [len(page["broadcasts"]) for page in pages][:-1] == [7] * (len(pages) - 1)
    assert item_ids(pages, "broadcasts") == item_ids([stats], "broadcasts")
    back = ada.walk(
        "/v4/broadcasts/stats",
        "before",
        per_page=7,
        before=pages[-1]["pagination"]["start_cursor"],
    )
    assert [page["broadcasts"] for page in back] == [
        page["broadcasts"] for page in pages[-2::-1]
    ]


def test_broadcast_stats_filter_by_status(ada: Api) -> None:
    everything = ada.ok("/v4/broadcasts/stats")["broadcasts"]
    for status in ("draft", "scheduled", "sending", "completed", "aborted"):
        found = ada.ok("/v4/broadcasts/stats", status=status)["broadcasts"]
        assert found == [b for b in everything if b["status"] == status]
        assert found, status
    for bad in ("all", "sent", "", "Completed"):
        refused = ada.get("/v4/broadcasts/stats", status=bad)
        assert refused.status_code == 422
        assert refused.json() == {"errors": ["Status is not included in the list"]}


@pytest.mark.parametrize("days", [7, 30, 90])
def test_broadcast_stats_filter_by_when_sent(ada: Api, days: int) -> None:
    since = (utc_today() - timedelta(days=days - 1)).isoformat()
    window = ada.ok(
        "/v4/broadcasts/stats", status="completed", sent_after=since, per_page=1000
    )["broadcasts"]
    assert window, f"no broadcast completed in the last {days} days"
    assert all(b["send_at"] >= since for b in window)
    earlier = ada.ok(
        "/v4/broadcasts/stats", status="completed", sent_before=since, per_page=1000
    )["broadcasts"]
    assert all(b["send_at"] < since for b in earlier)
    completed = ada.ok("/v4/broadcasts/stats", status="completed")["broadcasts"]
    assert len(window) + len(earlier) == len(completed)


def test_broadcast_stats_sent_bounds_take_dates_and_moments(ada: Api) -> None:
    sent = [
        b
        for b in ada.ok("/v4/broadcasts/stats")["broadcasts"]
        if b["status"] == "completed"
    ]
    moment = sent[3]["send_at"]
    exact = ada.ok("/v4/broadcasts/stats", sent_after=moment, sent_before=moment)
    assert item_ids([exact], "broadcasts") == [sent[3]["id"]]
    day = moment[:10]
    same_day = ada.ok("/v4/broadcasts/stats", sent_after=day, sent_before=day)
    assert sent[3]["id"] in item_ids([same_day], "broadcasts")
    # Drafts have no date, so any date bound leaves them out.
    dated = ada.ok("/v4/broadcasts/stats", sent_after="2000-01-01")["broadcasts"]
    assert "draft" not in {b["status"] for b in dated}
    for bad in ("yesterday", "2026-13-01", "2026-01-01T10:00"):
        refused = ada.get("/v4/broadcasts/stats", sent_after=bad)
        assert refused.status_code == 422
        assert refused.json() == {"errors": ["Sent after is invalid"]}
    assert ada.get("/v4/broadcasts/stats", per_page=1001).status_code == 422


# -- tokens --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v4/subscribers/1840001"),
        ("GET", "/v4/subscribers/1840001/tags"),
        ("POST", "/v4/tags/5001/subscribers/1840001"),
        ("DELETE", "/v4/tags/5001/subscribers/1840001"),
        ("DELETE", "/v4/tags/5001/subscribers"),
        ("GET", "/v4/broadcasts/9001"),
        ("GET", "/v4/broadcasts/stats"),
    ],
)
def test_the_new_endpoints_need_a_live_token(
    fresh_kit: SandboxServer, method: str, path: str
) -> None:
    def taggings() -> dict[int, dict[int, Any]]:
        with fresh_kit.state.lock:
            data = fresh_kit.state.account_data(ADA)
            return {tag: dict(tagged) for tag, tagged in data.taggings.items()}

    before = taggings()
    missing = requests.request(method, fresh_kit.url + path, timeout=5)
    assert missing.status_code == 401
    assert missing.json() == {"errors": ["The access token is invalid"]}
    api = Api(fresh_kit, ADA)
    fresh_kit.state.expire_access_tokens()
    expired = call(api, method, path, json={"email_address": "a@example.com"})
    assert expired.json() == {"errors": ["The access token expired"]}
    assert taggings() == before
