"""The creator's pages render the sandbox's Kit data, and write to it."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from markupsafe import escape

from tests.support.accounts import create_user, sign_in
from tests.support.installing import connect
from tests.support.rows import stored
from tests.zones import NEW_YORK, local_today

ADA, BEN, CHLOE = 1001, 1002, 1003


@pytest.fixture
def ada(client, kit, user):  # type: ignore[no-untyped-def]
    """The signed-in user connected to Ada's Kitchen, the big account (a real
    grant, no consent round trip: these pages are not about installing)."""
    connect(client.application, kit, account=ADA)
    return kit.state.account_data(ADA)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.text)


# --- every page renders Kit's data ---------------------------------------------------


def test_overview_shows_totals_growth_email_stats_and_broadcasts(client, kit, ada):
    page = client.get("/dashboard")
    assert page.status_code == 200
    body = text(page)
    active = sum(1 for s in ada.subscribers.values() if s.state == "active")
    assert f"{active:,}" in body
    today = local_today(NEW_YORK)  # Ada's Kitchen counts New York's days
    month = ada.growth.stats(today - timedelta(days=29), today, NEW_YORK)
    assert month["new_subscribers"] > 100  # the sandbox's launch bump
    for key in ("new_subscribers", "cancellations"):
        assert f">{month[key]:,}<" in body
    assert f">{month['net_new_subscribers']:+,}<" in body
    assert body.count('class="chart-day"') == 30  # one focusable day each
    assert "Subscriber growth, last 30 days" in body
    sent = [b for b in ada.broadcasts.values() if b.status == "completed"]
    latest = max(sent, key=lambda b: b.sent_at)
    assert latest.subject in body
    assert "Creator Pro" in body


def test_subscribers_page_lists_filters_and_counts(client, ada):
    page = text(client.get("/c/1/subscribers"))
    newest = max(
        (s for s in ada.subscribers.values() if s.state == "active"), key=lambda s: s.id
    )
    assert newest.email_address in page
    active = sum(1 for s in ada.subscribers.values() if s.state == "active")
    assert f"({active:,})" in page

    bounced = text(client.get("/c/1/subscribers?status=bounced"))
    some_bounced = next(s for s in ada.subscribers.values() if s.state == "bounced")
    assert (
        f"({sum(s.state == 'bounced' for s in ada.subscribers.values()):,})" in bounced
    )
    assert "badge-active" not in bounced
    assert some_bounced.email_address in text(
        client.get(
            f"/c/1/subscribers?status=bounced&email={some_bounced.email_address}"
        )
    )
    nobody = text(client.get("/c/1/subscribers?email=nobody@example.com"))
    assert "No subscriber matches “nobody@example.com”." in nobody


def test_walking_the_pages_shows_each_subscriber_exactly_once(client, ada):
    seen: list[str] = []
    url = "/c/1/subscribers?status=all"
    while url:
        page = text(client.get(url))
        seen += re.findall(r'<th scope="row"><a href="[^"]+">([^<]+@[^<]+)</a>', page)
        next_link = re.search(
            r'<a class="button secondary" rel="next" href="([^"]+)"', page
        )
        url = next_link.group(1) if next_link else None
    assert len(seen) == len(ada.subscribers) >= 2500
    assert len(set(seen)) == len(seen)


def test_previous_goes_back_to_the_same_page(client, ada):
    first = text(client.get("/c/1/subscribers"))
    second_url = re.search(r'rel="next" href="([^"]+)"', first).group(1)
    second = text(client.get(second_url))
    back_url = re.search(r'rel="prev" href="([^"]+)"', second).group(1)
    rows = re.compile(r'<th scope="row"><a href="[^"]+">([^<]+@[^<]+)</a>')
    assert rows.findall(text(client.get(back_url))) == rows.findall(first)


@pytest.mark.parametrize(
    ("path", "records"),
    [
        ("/forms", lambda d: [f.name for f in d.forms]),
        ("/sequences", lambda d: [s.name for s in d.sequences]),
        (
            "/broadcasts",
            lambda d: [
                b.subject for b in sorted(d.broadcasts.values(), key=lambda b: -b.id)
            ][:50],
        ),
        ("/tags", lambda d: [t.name for t in d.tags.values()]),
    ],
)
def test_list_pages_show_the_accounts_records(client, ada, path, records):
    page = text(client.get(f"/c/1{path}"))
    expected = records(ada)
    assert expected
    for name in expected:
        assert name in page, name


def test_an_empty_account_gets_empty_states(client, kit, user):
    connect(client.application, kit, account=CHLOE)
    messages = {
        "/subscribers": "No active subscribers yet.",
        "/tags": "No tags yet.",
        "/forms": "No forms yet.",
        "/sequences": "No sequences yet.",
        "/broadcasts": "No broadcasts yet.",
        "": "No broadcasts sent yet.",
    }
    for path, message in messages.items():
        page = client.get(f"/c/1{path}")
        assert page.status_code == 200, path
        assert message in text(page), path


# --- writes ---------------------------------------------------------------------------


def test_add_subscriber_round_trip_and_kits_422(client, ada):
    added = client.post(
        "/c/1/subscribers",
        data={"email_address": "new.reader@example.com", "first_name": "Nia"},
    )
    assert added.status_code == 302
    assert ada.subscriber_by_email("new.reader@example.com").first_name == "Nia"
    # The cache was dropped: the list shows the new subscriber at once.
    assert "new.reader@example.com" in text(client.get("/c/1/subscribers"))

    refused = client.post("/c/1/subscribers", data={"email_address": "not-an-email"})
    assert refused.status_code == 400
    assert "Enter an email address." in text(refused)


def test_kits_own_422_is_shown_next_to_the_field(client, ada):
    refused = client.post("/c/1/tags", data={"create-name": "   "})
    assert refused.status_code == 422
    assert "Name can't be blank" in text(refused)
    assert 'aria-invalid="true"' in refused.text


def test_create_tag_and_tag_a_subscriber(client, ada):
    created = client.post("/c/1/tags", data={"create-name": "VIP readers"})
    assert created.status_code == 302
    tag = next(t for t in ada.tags.values() if t.name == "VIP readers")
    assert "VIP readers" in text(client.get("/c/1/tags"))

    someone = next(s for s in ada.subscribers.values() if s.state == "active")
    tagged = client.post(
        "/c/1/tags/subscribers",
        data={"tag-tag_id": str(tag.id), "tag-email_address": someone.email_address},
    )
    assert tagged.status_code == 302
    assert someone.id in ada.taggings[tag.id]

    stranger = client.post(
        "/c/1/tags/subscribers",
        data={"tag-tag_id": str(tag.id), "tag-email_address": "stranger@example.com"},
    )
    assert stranger.status_code == 422
    assert "Subscriber not found" in text(stranger)

    bad_tag = client.post(
        "/c/1/tags/subscribers",
        data={"tag-tag_id": "999999", "tag-email_address": someone.email_address},
    )
    assert bad_tag.status_code == 400
    assert "Not a valid choice" in text(bad_tag)


# --- Kit's bad moments ----------------------------------------------------------------


def test_a_429_then_success_is_retried_and_the_page_renders(client, kit, ada):
    kit.state.add_fault("api", "429", times=2)
    page = client.get("/c/1/subscribers")
    assert page.status_code == 200
    assert "Kit asked us to slow down" not in text(page)


def test_a_lasting_rate_limit_says_so_and_offers_to_try_again(client, kit, ada):
    kit.state.add_fault("api", "429", times=100)
    page = client.get("/c/1/subscribers?status=bounced")
    assert page.status_code == 429
    assert "Kit asked us to slow down" in text(page)
    assert page.headers["Retry-After"].isdigit()
    # No reload behind the creator's back: a link they choose to follow.
    assert "http-equiv" not in page.text
    assert 'href="/c/1/subscribers?status=bounced">Try again</a>' in page.text


def test_kit_unavailable_on_a_list_page(client, kit, ada):
    kit.state.add_fault("api", "500", times=100)
    page = client.get("/c/1/forms")
    assert page.status_code == 503
    assert "Kit is unavailable right now" in text(page)


def test_a_forged_cursor_is_a_400_with_a_way_back(client, ada):
    page = client.get("/c/1/subscribers?after=not-a-cursor")
    assert page.status_code == 400
    assert "That page link is not valid any more" in text(page)


# --- several accounts (nobody else's: test_isolation.py) ------------------------------


def test_switcher_scopes_every_page_to_the_selected_account(client, kit, ada):
    connect(client.application, kit, account=BEN)
    ben = kit.state.account_data(BEN)
    page = text(client.get("/c/2/tags"))
    ben_tags = {t.name for t in ben.tags.values()}
    ada_only = {t.name for t in ada.tags.values()} - ben_tags
    assert all(name in page for name in ben_tags)
    assert not any(f">{name} <" in page for name in ada_only)
    # The switcher lists both, and /dashboard now opens the last one viewed.
    assert "Ada&#39;s Kitchen" in client.get("/c/2/tags").text
    assert str(escape(kit.state.accounts[BEN].name)) in client.get("/dashboard").text


def test_cache_is_per_connection(client, kit, ada):
    connect(client.application, kit, account=BEN)
    ada_page = text(client.get("/c/1/forms"))
    ben_page = text(client.get("/c/2/forms"))
    assert ada_page != ben_page
    assert ada.forms[0].name in ada_page
    assert ada.forms[0].name not in ben_page


def test_reload_control_drops_the_cache(client, kit, ada):
    client.get("/dashboard")
    calls = kit.state.stats()["api_requests"]
    client.get("/dashboard")
    assert kit.state.stats()["api_requests"] == calls  # all from the cache
    assert client.post("/c/1/reload").status_code == 302
    client.get("/dashboard")
    assert kit.state.stats()["api_requests"] > calls


def test_growth_bars_sit_on_the_zero_line_scaled_to_the_extremes():
    from datetime import date

    from app.dashboard.chart import growth_chart
    from app.kit.resources import GrowthStats

    days = [date(2026, 1, d) for d in (1, 2, 3)]
    chart = growth_chart(
        [
            (
                day,
                GrowthStats(
                    new_subscribers=max(v, 0),
                    cancellations=max(-v, 0),
                    net_new_subscribers=v,
                ),
            )
            for day, v in zip(days, (30, -10, 0), strict=True)
        ]
    )
    up, down, flat = chart.bars
    assert (round(up.y + up.height, 3), up.negative) == (chart.baseline, False)
    assert (down.y, down.negative) == (chart.baseline, True)
    assert up.height == pytest.approx(3 * down.height)
    assert flat.height == 0  # a day without change draws no stub
    assert growth_chart([]).empty


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("500", 503, "Kit is unavailable right now"),
        ("timeout", 503, "Kit is unavailable right now"),
        ("not_json", 503, "Kit is unavailable right now"),
        ("429", 429, "Kit asked us to slow down"),
    ],
)
def test_api_faults_give_a_clear_page_keep_the_tokens_and_recover(
    make_app, kit, kind, status, message
):
    # The timeout fault answers after 2 s, past the app's 1 s; Kit answering
    # again must come within that 1 s even on a busy machine.
    app = make_app(KIT_HTTP_TIMEOUT=1.0)
    kit.state.timeout_seconds = 2.0
    client = app.test_client()
    create_user(app)
    sign_in(client)
    connect(app, kit, account=ADA)

    def tokens():  # type: ignore[no-untyped-def]
        row = stored(app)
        return row.access_token, row.refresh_token, row.status

    before = tokens()
    kit.state.add_fault("api", kind, times=10_000)
    page = client.get("/dashboard")
    assert page.status_code == status
    assert message in text(page)
    assert tokens() == before

    kit.state.clear_faults()
    assert client.get("/dashboard").status_code == 200
    assert tokens() == before
