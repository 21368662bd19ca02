"""The activity feed's depth: a row links to the subscriber's page when the
event names one; a bulk action's events (100 `subscriber.tag_added` in one
delivery) read as one row that opens onto its subscribers; the "more
arrived" notice sits where new events appear."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import requests

from app.extensions import db
from app.models import WebhookEvent
from tests.support.accounts import sign_up
from tests.support.installing import install
from tests.support.webhooks import add_events, set_endpoint

NOW = datetime.now(UTC).replace(microsecond=0)
ROW = re.compile(r'<li class="event [^"]*" data-event-id="(\d+)"')


@pytest.fixture
def ada(app, client, kit, kit_browser, user):  # type: ignore[no-untyped-def]
    install(client, kit_browser, account=1001)
    set_endpoint(app, 1, "active")
    return client


def tagged(n: int, delivery_id: int | None, tag: str = "VIP", start: int = 0):  # type: ignore[no-untyped-def]
    return [
        {
            "type": "subscriber.tag_added",
            "subscriber_email": f"bulk{start + i}@example.com",
            "subject": tag,
            "delivery_id": delivery_id,
            "data": json.dumps({"subscriber": {"id": 1_900_000 + start + i}}),
            "occurred_at": NOW - timedelta(seconds=i),
        }
        for i in range(n)
    ]


def test_a_row_links_to_the_subscriber_it_names(app, ada):
    add_events(
        app,
        [
            {
                "subscriber_email": "known@example.com",
                "data": json.dumps({"subscriber": {"id": 1_840_123}}),
            },
            {"subscriber_email": "nameless@example.com", "data": "{}"},
        ],
    )
    page = unescape(ada.get("/c/1/activity").text)
    assert (
        '<a href="/c/1/subscribers/1840123"><strong>known@example.com</strong></a>'
        in page
    )
    assert "<strong>nameless@example.com</strong>" in page
    assert 'href="/c/1/subscribers/0"' not in page
    # The live update's rows link too.
    live = ada.get("/c/1/activity/new", query_string={"after": 0}).get_json()
    assert 'href="/c/1/subscribers/1840123"' in live["html"]


def test_a_bulk_action_is_one_row_that_opens_onto_its_subscribers(app, ada):
    add_events(app, tagged(100, delivery_id=5))
    add_events(
        app,
        [
            {
                "subscriber_email": "alone@example.com",
                "occurred_at": NOW + timedelta(seconds=5),
            }
        ],
    )
    page = unescape(ada.get("/c/1/activity").text)
    assert len(ROW.findall(page)) == 2  # the bulk action and the one event
    assert "<summary>Tagged 100 subscribers «VIP»</summary>" in page
    start = page.index('<details class="event-what">')
    group = page[start : page.index("</details>", start)]
    assert group.count("@example.com") == 100
    assert 'href="/c/1/subscribers/1900000"' in group
    assert "<li" not in group  # the live feed takes every <li> as a row
    assert 'rel="next"' not in page  # 2 rows: one page


def test_a_bulk_action_is_never_split_across_pages(app, ada):
    """26 single events then a run of 60: page one shows 25 singles; page two
    the 26th and the whole run as one row."""
    add_events(app, tagged(60, delivery_id=9, start=0))
    singles = [
        {
            "subscriber_email": f"single{i}@example.com",
            "delivery_id": 100 + i,
            "occurred_at": NOW + timedelta(minutes=1, seconds=i),
        }
        for i in range(26)
    ]
    add_events(app, singles)
    first = unescape(ada.get("/c/1/activity").text)
    assert len(ROW.findall(first)) == 25
    assert "<summary>Tagged" not in first
    older = re.search(r'rel="next" href="([^"]+)"', first)
    assert older is not None
    second = unescape(ada.get(unescape(older.group(1))).text)
    assert len(ROW.findall(second)) == 2
    assert "Tagged 60 subscribers «VIP»" in second
    assert 'rel="next"' not in second


def test_a_handful_stay_rows_and_deliveries_do_not_merge(app, ada):
    """Nine of a kind in one delivery (sign-ups close together) stay rows;
    events of different deliveries never merge."""
    add_events(app, tagged(9, delivery_id=1, tag="Buyers"))
    add_events(app, tagged(12, delivery_id=None, tag="Buyers", start=10))
    page = unescape(ada.get("/c/1/activity").text)
    assert '<details class="event-what">' not in page  # no bulk delivery of 10+
    assert len(ROW.findall(page)) == 21


def test_the_more_arrived_notice_sits_above_the_feed(ada):
    page = ada.get("/c/1/activity").text
    assert page.index('id="activity-more"') < page.index('id="activity-feed"')


def test_the_sandboxs_bulk_tagging_reads_as_one_row(served_app, kit, kit_browser):
    """End to end: the sandbox tags 100 subscribers at once, delivers the 100
    events signed to the app over HTTP; the feed shows one row."""
    app, client = served_app, served_app.test_client()
    sign_up(client)
    install(client, kit_browser, account=1001)
    made = requests.post(
        f"{kit.url}/_sandbox/activity",
        json={"account_id": 1001, "kind": "batch"},
        timeout=10,
    )
    assert made.status_code == 200, made.text
    kit.state.webhooks.flush(timeout=10)

    def stored() -> int:
        with app.app_context():
            return db.session.query(WebhookEvent).count()

    deadline = time.monotonic() + 10
    while stored() < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    page = unescape(client.get("/c/1/activity").text)
    summary = re.search(r"<summary>(Tagged 100 subscribers «[^»]+»)</summary>", page)
    assert summary is not None, page[page.find("activity-feed") :][:2000]
    assert len(ROW.findall(page)) <= 2  # the bulk action (and the tag's creation)
