"""The overview's figures reconcile: the change in the subscriber total and
net growth cover the same days, and where Kit's two figures differ the page
says why in words; "today" is Kit's own count for the account's day, the same
on every connection to one Kit account. Expected numbers are counted from the
sandbox's seeded subscribers, in the account's time zone (New York for Ada)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from tests.support.installing import connect, install
from tests.support.webhooks import add_events
from tests.zones import day_start, expected_stats, local_today

ADA = 1001
NEW_YORK = "America/New_York"


@pytest.fixture
def ada(client, kit, kit_browser, user):  # type: ignore[no-untyped-def]
    install(client, kit_browser, account=ADA)
    return kit.state.account_data(ADA)


def kpi(page: str, label: str) -> tuple[str, str]:
    """A key figure's value and its change, as the page words them."""
    found = re.search(
        rf'<span class="stat-label">{label}</span>\s*'
        r'<span class="stat-value">([^<]+)</span>\s*'
        r'<span class="stat-delta[^"]*">(.*?)</span>\s*</div>',
        page,
        re.S,
    )
    assert found, f"no {label} figure"
    return found.group(1), " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split())


def note(page: str) -> str:
    found = re.search(r'<p class="figures-note[^"]*">(.*?)</p>', page, re.S)
    assert found, "the page does not say how its figures relate"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


@pytest.mark.parametrize("days", [7, 30])
def test_the_total_and_net_growth_agree_or_the_page_says_why(client, ada, days):
    page = unescape(client.get(f"/c/1?period={days}").text)
    today = local_today(NEW_YORK)
    first = today - timedelta(days=days - 1)
    now = expected_stats(ada, NEW_YORK, first, today)
    ended = first - timedelta(days=1)  # the previous period's last day
    before = expected_stats(ada, NEW_YORK, ended, ended)
    change = now["subscribers"] - before["subscribers"]
    net = now["net_new_subscribers"]

    assert kpi(page, "Net growth")[0] == f"{net:+,}"
    assert kpi(page, "Subscribers")[1].startswith(f"{change:+,} over these {days} days")

    # Kit's two figures differ on the seed, and by exactly what the page names:
    # sign-ups never confirmed (new, never in the total) and addresses that
    # bounced or complained (out of the total, not cancellations).
    start, end = (
        day_start(first, NEW_YORK),
        day_start(today + timedelta(days=1), NEW_YORK),
    )
    people = list(ada.subscribers.values())
    unconfirmed = sum(
        s.state == "inactive" and start <= s.created_at < end for s in people
    )
    dropped = sum(
        s.state in ("bounced", "complained") and start <= s.left_at < end
        for s in people
        if s.left_at is not None
    )
    assert net - change == unconfirmed + dropped
    if days == 30:
        assert change != net  # the seed's month has both kinds, always
    if change == net:
        assert 'class="figures-note' not in page
        return
    said = note(page)
    assert f"{change:+,}" in said and f"{net:+,}" in said
    assert "bounce" in said and "unconfirmed" in said


def test_a_period_where_they_agree_needs_no_note(client, kit, kit_browser, user):
    install(client, kit_browser, account=1003)  # Quiet Trails: nothing at all
    page = unescape(client.get("/c/1?period=7").text)
    assert kpi(page, "Net growth")[0] == "0"
    assert 'class="figures-note' not in page


def today_figures(page: str) -> tuple[str, str]:
    new = re.search(r'id="today-new">([^<]+)<', page)
    gone = re.search(r'id="today-unsubscribes">([^<]+)<', page)
    assert new and gone
    return new.group(1), gone.group(1)


def test_two_connections_to_one_kit_account_show_kits_count_for_today(
    app, client, kit, user
):
    connect(app, kit, account=ADA)
    connect(app, kit, account=ADA, tenant_name="Second shop")
    # Events reached the first connection only: it was made earlier.
    add_events(
        app,
        [{"type": "subscriber.created"}] * 3 + [{"type": "subscriber.unsubscribed"}],
        connection_id=1,
    )
    pages = [unescape(client.get(f"/c/{n}").text) for n in (1, 2)]
    today = local_today(NEW_YORK)
    with kit.state.lock:
        kit_today = expected_stats(kit.state.account_data(ADA), NEW_YORK, today, today)
    expected = (
        f"{kit_today['new_subscribers']:,}",
        f"{kit_today['cancellations']:,}",
    )
    assert today_figures(pages[0]) == today_figures(pages[1]) == expected
    # The events the app received are counted apart, and say since when.
    assert "4 events received since you connected" in pages[0]
    assert "0 events received since you connected" in pages[1]
