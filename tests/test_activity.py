"""The activity feed: the events Kit delivered, newest first, in plain words,
paged, filtered, and polled for live updates; and today's figures on the
overview. The events are stored straight into our own tables (the receiver's
tests cover how they get there); these pages never call Kit.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from app.extensions import db
from app.models import WebhookEndpoint
from tests.support.accounts import sign_up
from tests.support.installing import connect
from tests.support.rows import set_stored
from tests.support.webhooks import add_events, set_endpoint

NOW = datetime.now(UTC).replace(microsecond=0)
ROW_ID = re.compile(r'data-event-id="(\d+)"')


@pytest.fixture
def ada(app, client, kit, user):  # type: ignore[no-untyped-def]
    """The signed-in user with connection 1 (a real grant, no consent round
    trip: these pages are not about installing), its endpoint active."""
    connect(app, kit, account=1001)
    set_endpoint(app, 1, "active")
    return client


def shown(page) -> list[int]:  # type: ignore[no-untyped-def]
    """The row ids a feed page (or a live update's HTML) lists, in order."""
    return [int(n) for n in ROW_ID.findall(page)]


def older_link(page: str) -> str | None:
    found = re.search(r'rel="next" href="([^"]+)"', page)
    return unescape(found.group(1)) if found else None


def test_events_are_listed_newest_first_in_plain_words(app, ada):
    ids = add_events(
        app,
        [
            {
                "type": "subscriber.created",
                "subscriber_email": "first@example.com",
                "occurred_at": NOW - timedelta(minutes=5),
            },
            {
                "type": "subscriber.tag_added",
                "subscriber_email": "tagged@example.com",
                "subject": "Buyers <b>VIP</b>",
                "occurred_at": NOW - timedelta(minutes=1),
            },
            {
                "type": "subscriber.complained",
                "subscriber_email": "angry@example.com",
                "occurred_at": NOW - timedelta(minutes=3),
            },
            {
                "type": "subscriber.subscribed_to_form",
                "subscriber_email": "form@example.com",
                "subject": "Newsletter sign-up",
                "occurred_at": NOW - timedelta(minutes=2),
            },
            {"type": "tag.created", "subject": "Launch", "occurred_at": NOW},
            {
                "type": "subscriber.teleported",  # a type Kit added later
                "subscriber_email": "new@example.com",
                "occurred_at": NOW - timedelta(minutes=9),
            },
        ],
    )
    page = ada.get("/c/1/activity")
    assert page.status_code == 200
    # Newest first, by when it happened, not by when it was stored.
    assert shown(page.text) == [ids[4], ids[1], ids[3], ids[2], ids[0], ids[5]]
    body = unescape(page.text)
    for line in (
        "Tag «Launch» was created",
        "tagged@example.com</strong> was tagged «Buyers <b>VIP</b>»",
        "form@example.com</strong> subscribed through form «Newsletter sign-up»",
        "angry@example.com</strong> marked your email as spam",
        "first@example.com</strong> joined",
        "new@example.com</strong> had an event Kit calls “subscriber.teleported”",
    ):
        assert line in body, line
    assert "<b>VIP</b>" not in page.text  # Kit's names are escaped
    # On Ada's clock (New York), where Kit counts her days.
    local = NOW.astimezone(ZoneInfo("America/New_York"))
    assert f'datetime="{local.isoformat()}"' in page.text
    # The tab, and the page that works without JavaScript.
    assert re.search(r'href="/c/1/activity" aria-current="page">Activity<', page.text)
    assert 'href="/c/1/activity">↻ Refresh</a>' in page.text
    assert 'src="/static/js/activity.js"' in page.text
    assert "<script>" not in page.text  # CSP: script-src 'self'
    assert f'data-after="{max(ids)}"' in page.text


def test_older_pages_show_every_event_once_also_with_equal_times(app, ada):
    # 60 events in 4 distinct seconds, stored in a shuffled order: a page
    # boundary falls among events of the same second.
    times = [NOW - timedelta(seconds=(n * 7) % 4) for n in range(60)]
    ids = add_events(app, [{"occurred_at": t} for t in times])
    expected = [i for _, i in sorted(zip(times, ids, strict=True), reverse=True)]
    seen: list[int] = []
    url: str | None = "/c/1/activity"
    pages = 0
    while url:
        page = ada.get(url)
        assert page.status_code == 200
        seen += shown(page.text)
        pages += 1
        if pages == 1:
            # Events arriving meanwhile do not shift the older pages.
            add_events(app, [{"occurred_at": NOW + timedelta(minutes=1)}])
        else:
            assert "data-poll=" not in page.text  # live updates: first page only
            assert "← Newest events" in page.text
        url = older_link(page.text)
    assert seen == expected
    assert pages == 3  # 25 + 25 + 10


def test_the_filter_shows_one_type_and_the_pager_keeps_it(app, ada):
    kinds = ["subscriber.unsubscribed", "subscriber.created"] * 30
    ids = add_events(
        app,
        [
            {"type": kind, "occurred_at": NOW - timedelta(seconds=n)}
            for n, kind in enumerate(kinds)
        ],
    )
    unsubscribed = [i for i, k in zip(ids, kinds, strict=True) if k == kinds[0]]
    first = ada.get("/c/1/activity?type=subscriber.unsubscribed")
    assert first.status_code == 200
    assert '<option value="subscriber.unsubscribed" selected>' in first.text
    link = older_link(first.text)
    assert link is not None and "type=subscriber.unsubscribed" in link
    second = ada.get(link)
    assert shown(first.text) + shown(second.text) == unsubscribed
    assert older_link(second.text) is None

    bounced = ada.get("/c/1/activity?type=subscriber.bounced")
    assert shown(bounced.text) == []
    assert "No “Bounced” events" in unescape(bounced.text)


@pytest.mark.parametrize(
    "query",
    [
        "type=subscriber.nonsense",
        "type=" + "x" * 5000,
        "type=%00",
        "older=x",
        "older=!!!!",
        "older=" + "A" * 65,
        "older=" + base64.urlsafe_b64encode(b"123").decode(),
        "older=" + base64.urlsafe_b64encode(b"999999999999999999.1").decode(),
        "older=" + base64.urlsafe_b64encode(b"1.99999999999999999999").decode(),
        "older=" + base64.urlsafe_b64encode(b"-999999999999999999.1").decode(),
        "older=%F0%9F%98%80",
    ],
)
def test_a_hand_edited_link_is_a_400_page_never_a_500(app, ada, query):
    add_events(app, [{}])
    page = ada.get(f"/c/1/activity?{query}")
    assert page.status_code == 400
    assert "That page link is not valid any more" in page.text
    assert 'href="/c/1/activity">First page</a>' in page.text


def test_a_cursor_past_the_last_event_is_an_empty_older_page(app, ada):
    add_events(app, [{"occurred_at": NOW}])
    cursor = base64.urlsafe_b64encode(b"0.1").decode().rstrip("=")  # 1970
    page = ada.get(f"/c/1/activity?older={cursor}")
    assert page.status_code == 200
    assert shown(page.text) == []
    assert "No older events." in page.text


def test_polling_answers_only_the_newer_events(app, ada):
    old = add_events(app, [{"occurred_at": NOW - timedelta(hours=1)}] * 2)
    empty = ada.get(f"/c/1/activity/new?after={max(old)}")
    assert empty.status_code == 200
    assert empty.json["count"] == 0
    assert empty.json["newest"] == max(old)
    assert empty.headers["Cache-Control"] == "no-store"

    new = add_events(
        app,
        [
            {"subscriber_email": "late@example.com", "occurred_at": NOW},
            {
                "type": "subscriber.unsubscribed",
                "subscriber_email": "gone@example.com",
                "occurred_at": NOW + timedelta(seconds=1),
            },
        ],
    )
    answer = ada.get(f"/c/1/activity/new?after={max(old)}").json
    assert answer["count"] == 2
    assert shown(answer["html"]) == [new[1], new[0]]  # newest first
    assert "gone@example.com</strong> unsubscribed" in answer["html"]
    assert answer["newest"] == max(new)
    assert answer["more"] is False
    again = ada.get(f"/c/1/activity/new?after={answer['newest']}").json
    assert again["count"] == 0

    filtered = ada.get(
        f"/c/1/activity/new?after={max(old)}&type=subscriber.unsubscribed"
    ).json
    assert shown(filtered["html"]) == [new[1]]
    # No `after`: the newest events (the page had none).
    everything = ada.get("/c/1/activity/new").json["html"]
    assert shown(everything) == [new[1], new[0], old[1], old[0]]


def test_polling_after_a_burst_says_there_is_more(app, ada):
    ids = add_events(app, [{} for _ in range(51)])
    answer = ada.get("/c/1/activity/new?after=0").json
    assert answer["count"] == 50
    assert answer["more"] is True
    assert answer["newest"] == max(ids)


@pytest.mark.parametrize(
    "query", ["after=x", "after=-1", "after=" + "9" * 30, "after=1.5", "type=nope"]
)
def test_polling_refuses_bad_input_with_a_400(ada, query):
    answer = ada.get(f"/c/1/activity/new?{query}")
    assert answer.status_code == 400
    assert "error" in answer.json


@pytest.mark.parametrize(
    ("status", "says", "never"),
    [
        ("active", "Kit sends this app an event whenever", "Connecting"),
        ("pending", "Connecting to Kit's events…", "Events are not available"),
        ("failed", "Connecting to Kit's events…", "Events are not available"),
        (
            "unavailable",
            "Kit has not enabled webhooks for this account, so events are not "
            "available; the rest of the dashboard works",
            "Connecting",
        ),
    ],
)
def test_the_empty_feed_explains_where_events_come_from(app, ada, status, says, never):
    set_endpoint(app, 1, status)
    page = ada.get("/c/1/activity")
    assert page.status_code == 200
    body = unescape(page.text)
    assert says in body
    assert never not in body
    assert "No events yet" in body
    assert "Make activity" not in body  # only in sandbox mode
    app.config["KIT_SANDBOX"] = True
    sandbox = unescape(ada.get("/c/1/activity").text)
    link = f'href="{app.config["KIT_SANDBOX_URL"]}/_sandbox/activity">Make activity'
    assert link in sandbox


def test_a_connection_without_an_endpoint_row_is_still_connecting(app, ada):
    with app.app_context():
        db.session.execute(delete(WebhookEndpoint))
        db.session.commit()
    assert "Connecting to Kit's events…" in unescape(ada.get("/c/1/activity").text)


def test_these_pages_never_call_kit(app, ada, kit):
    add_events(app, [{"occurred_at": NOW - timedelta(seconds=n)} for n in range(30)])
    before = kit.state.stats()
    page = ada.get("/c/1/activity")
    assert ada.get(older_link(page.text)).status_code == 200
    assert ada.get("/c/1/activity?type=subscriber.bounced").status_code == 200
    assert ada.get("/c/1/activity?older=x").status_code == 400
    assert ada.get("/c/1/activity/new?after=0").status_code == 200
    assert kit.state.stats() == before


def test_another_users_connection_is_a_404(app, ada, kit_browser):
    add_events(app, [{"subscriber_email": "private@example.com"}])
    stranger = app.test_client()
    sign_up(stranger, "stranger@example.com")
    for path in ("/c/1/activity", "/c/1/activity/new?after=0", "/c/7/activity"):
        answer = stranger.get(path)
        assert answer.status_code == 404
        assert "private@example.com" not in answer.text


def test_a_connection_to_reconnect_shows_the_banner_not_the_feed(app, ada):
    add_events(app, [{"subscriber_email": "someone@example.com"}])
    set_stored(app, 1, status="needs_reconnect")
    page = ada.get("/c/1/activity")
    assert page.status_code == 200
    assert "Reconnect needed" in page.text
    assert "data-poll=" not in page.text


def test_the_overview_counts_the_events_of_the_accounts_day(app, ada):
    """Today's new subscribers and unsubscribes are Kit's own count (its
    growth stats, tests/test_figures_reconcile.py); the events line counts
    what reached this connection since the account's midnight (New York's)."""
    zone = ZoneInfo("America/New_York")
    midnight = datetime.combine(NOW.astimezone(zone).date(), time(), zone)
    set_stored(app, 1, created_at=midnight - timedelta(days=2))
    add_events(
        app,
        [
            {"type": "subscriber.created", "occurred_at": midnight},
            {"type": "subscriber.created", "occurred_at": NOW},
            {"type": "subscriber.unsubscribed", "occurred_at": NOW},
            {"type": "subscriber.tag_added", "occurred_at": NOW},
            {
                "type": "subscriber.created",
                "occurred_at": midnight - timedelta(seconds=1),
            },
        ],
    )
    page = ada.get("/c/1")
    assert page.status_code == 200
    assert unescape(page.text).count("4 events received today — see activity") == 1
    assert 'href="/c/1/activity">' in page.text

    set_endpoint(app, 1, "unavailable")
    page = unescape(ada.get("/c/1").text)
    assert "Kit has not enabled webhooks for this account" in page
    assert "events received" not in page
    assert 'id="today-new">' in page  # Kit's count needs no events
