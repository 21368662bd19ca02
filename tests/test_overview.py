"""The overview as a creator reads it: a period of 7, 30 or 90 days, its
figures against the previous period's, a chart with axes and values on hover
and focus, the latest sent broadcasts with their rates, and an empty account
that says what to do. Expected numbers come from the sandbox's own data."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from app.dashboard.chart import scale
from tests.support.installing import connect_with_days
from tests.zones import NEW_YORK, local_today

ADA, CHLOE = 1001, 1003  # the big account; the empty one
OVERVIEW_CALLS = [
    "/v4/account",
    "/v4/account/email_stats",
    "/v4/account/growth_stats",
    "/v4/broadcasts/stats",
]


@pytest.fixture
def ada(client, kit, user):  # type: ignore[no-untyped-def]
    """The signed-in user connected to Ada's Kitchen, its days stored as after
    an install (a real grant and the install's backfill, without the consent
    round trip: the overview is not about installing)."""
    connect_with_days(client.application, kit, ADA)
    return kit.state.account_data(ADA)


def today() -> date:
    """Ada's today: Kit's days are her account's, in New York."""
    return local_today(NEW_YORK)


def local(moment: datetime) -> datetime:
    """On Ada's clock: the account's zone, as the pages show times."""
    return moment.astimezone(ZoneInfo(NEW_YORK))


def label(day: date) -> str:
    return f"{day.day} {day:%b}"


def period_stats(account, days: int, back: int = 0) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The sandbox's totals of the `days` days ending `back` periods ago."""
    end = today() - timedelta(days=days * back)
    return account.growth.stats(end - timedelta(days=days - 1), end, NEW_YORK)


def values(page: str) -> list[str]:
    return re.findall(r'<span class="stat-value">([^<]+)</span>', page)[:4]


def deltas(page: str) -> list[str]:
    found = re.findall(
        r'<span class="stat-delta ([^"]+)">(.*?)</span>\s*</div>', page, re.S
    )
    return [
        (classes, " ".join(re.sub(r"<[^>]+>", " ", text).split()))
        for classes, text in found
    ]


def calls_since(kit, start: int) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(entry["path"] for entry in kit.state.api_requests[start:])


@pytest.mark.parametrize("days", [7, 30, 90])
def test_each_period_shows_its_totals_and_the_change_from_the_one_before(
    client, ada, days
):
    page = unescape(client.get(f"/c/1?period={days}").text)
    now, before = period_stats(ada, days), period_stats(ada, days, back=1)
    assert values(page) == [
        f"{now['subscribers']:,}",
        f"{now['new_subscribers']:,}",
        f"{now['cancellations']:,}",
        f"{now['net_new_subscribers']:+,}" if now["net_new_subscribers"] else "0",
    ]
    shown = deltas(page)
    for (classes, text), key in zip(
        shown,
        ("subscribers", "new_subscribers", "cancellations", "net_new_subscribers"),
        strict=True,
    ):
        change = now[key] - before[key]
        # The total is a count at the end: its change is over these days.
        against = "over these" if key == "subscribers" else "vs previous"
        if change:
            assert text.startswith(f"{change:+,} {against} {days} days")
            up_is_good = key != "cancellations"
            verdict = "better" if (change > 0) == up_is_good else "worse"
            assert text.endswith(f"({verdict})")
            assert classes == f"{'up' if change > 0 else 'down'} {verdict}"
        else:
            assert text == f"no change {against} {days} days"
    assert f'aria-current="page">{days} days</a>' in page
    assert f"Subscriber growth, last {days} days" in page


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?period=",
        "?period=abc",
        "?period=31",
        "?period=-7",
        "?period=7.0",
        "?period=" + "9" * 80,
    ],
)
def test_an_unknown_period_is_the_last_30_days(client, ada, query):
    page = client.get(f"/c/1{query}")
    assert page.status_code == 200
    text = unescape(page.text)
    assert 'aria-current="page">30 days</a>' in text
    now = period_stats(ada, 30)
    assert values(text)[1] == f"{now['new_subscribers']:,}"


@pytest.mark.parametrize("days", [7, 30, 90])
def test_a_warm_overview_asks_kit_nothing_for_any_period(client, kit, ada, days):
    start = len(kit.state.api_requests)
    assert client.get(f"/c/1?period={days}").status_code == 200
    cold = calls_since(kit, start)
    # The finished days of every period are stored; the previous 90 days'
    # totals are one call more (in the same batch), cached after.
    extra = ["/v4/account/growth_stats"] if days == 90 else []
    assert cold == sorted(OVERVIEW_CALLS + extra)

    start = len(kit.state.api_requests)
    assert client.get(f"/c/1?period={days}").status_code == 200
    assert calls_since(kit, start) == []


def test_reload_keeps_the_period(client, ada):
    response = client.post("/c/1/reload?period=7")
    assert response.status_code == 302
    assert response.location == "/c/1?period=7"
    assert client.post("/c/1/reload?period=bad").location == "/c/1"


def test_the_chart_has_axes_and_focusable_days_with_their_figures(client, ada):
    page = unescape(client.get("/c/1?period=30").text)
    days = [today() - timedelta(days=n) for n in range(29, -1, -1)]
    bars = re.findall(
        r'<g class="chart-day" tabindex="0" role="img" aria-label="([^"]+)">', page
    )
    expected = []
    for day in days:
        stats = ada.growth.stats(day, day, NEW_YORK)
        expected.append(
            f"{label(day)}: {stats['net_new_subscribers']:+,} net "
            f"({stats['new_subscribers']:,} new, {stats['cancellations']:,} cancelled)"
        )
    assert bars == expected
    ticks = re.findall(
        r'<text class="chart-tick"[^>]*text-anchor="end">([^<]+)</text>', page
    )
    y_ticks = [tick for tick in ticks if not re.search("[A-Za-z]", tick)]
    assert 3 <= len(y_ticks) <= 5
    assert "0" in y_ticks
    numbers = [int(tick.replace(",", "")) for tick in y_ticks]
    nets = [ada.growth.stats(day, day, NEW_YORK)["net_new_subscribers"] for day in days]
    assert max(numbers) >= max(nets) and min(numbers) <= min(nets)
    x_labels = re.findall(
        r'<text class="chart-tick[^"]*"[^>]*dy="1.4em"[^>]*>([^<]+)</text>', page
    )
    assert x_labels[0] == label(days[0]) and x_labels[-1] == label(days[-1])
    assert 3 <= len(x_labels) <= 8
    assert '<line class="chart-zero"' in page
    # Thirty tab stops, and a link before them that steps over them all.
    skip = re.search(r'<a class="skip skip-chart" href="#([\w-]+)">', page)
    assert skip and page.index(skip.group(0)) < page.index('class="chart-day"')
    assert f'id="{skip.group(1)}" tabindex="-1"' in page
    assert 'class="chart-value"' in page  # the figures shown on hover and focus
    assert "<caption>Net new subscribers per day</caption>" in page


def test_an_empty_account_says_what_to_do_and_draws_no_bars(client, kit, user):
    connect_with_days(client.application, kit, CHLOE)
    page = unescape(client.get("/dashboard").text)
    assert "No subscriber activity in the last 30 days yet." in page
    assert 'href="/c/1/forms"' in page
    assert "chart-day" not in page and "chart-bar" not in page
    assert "+0" not in page
    assert page.count("no earlier data") == 4
    assert "No broadcasts sent yet." in page


def test_latest_broadcasts_are_the_sent_ones_newest_first_with_rates(client, ada):
    page = unescape(client.get("/dashboard").text)
    sent = sorted(
        (b for b in ada.broadcasts.values() if b.status == "completed"),
        key=lambda b: b.send_at,
        reverse=True,
    )[:5]
    table = page[page.index('<table class="data records latest-broadcasts">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert len(rows) == len(sent) == 5
    for row, broadcast in zip(rows, sent, strict=True):
        stats = broadcast.stats.to_api(broadcast.status)
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        assert cells == [
            broadcast.subject,
            f"{local(broadcast.send_at).day} {local(broadcast.send_at):%b %Y}",
            f"{stats['recipients']:,}",
            f"{stats['open_rate']:.1f}%",
            f"{stats['click_rate']:.1f}%",
        ]
    others = [b.subject for b in ada.broadcasts.values() if b.status != "completed"]
    assert not any(f">{subject}<" in table for subject in others)


def test_email_card_puts_the_rates_first(client, ada):
    page = unescape(client.get("/dashboard").text)
    stats = ada.email_stats(datetime.now(UTC).replace(microsecond=0))
    card = page[page.index("Email, last 90 days") :]
    assert f"{100 * stats['opened'] / stats['sent']:.1f}%" in card
    assert f"{100 * stats['clicked'] / stats['sent']:.1f}%" in card


@pytest.mark.parametrize(
    ("low", "high"),
    [(0, 1), (0, 7), (0, 11), (-1, 0), (-3, 10), (-39, 41), (0, 1234), (-5, 5)],
)
def test_the_y_axis_has_3_to_5_round_ticks_around_zero(low, high):
    bottom, top, step = scale(low, high)
    ticks = list(range(bottom, top + 1, step))
    assert 3 <= len(ticks) <= 5
    assert 0 in ticks and bottom <= low and top >= high
    assert str(step).rstrip("0") in ("1", "2", "5")
