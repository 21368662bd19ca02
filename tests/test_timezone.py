"""Kit counts an account's days in its sending time zone (`account.timezone`):
the sandbox does too, the app keeps the zone on the connection, stores only
the days that have ended there, counts "today" there, and shows every time in
it, in one format, with the zone named once per page (UTC, said so, when the
zone is unknown)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import requests

from kit_sandbox.testing import real_grant
from tests.support.accounts import sign_in
from tests.support.installing import connect, install
from tests.support.rows import add_connection, growth_days, set_stored, stored
from tests.support.webhooks import add_events
from tests.zones import (
    expected_stats,
    local_today,
    move_account,
    zone_apart_from_utc,
)

ADA, BEN, CHLOE = 1001, 1002, 1003  # New York, London, Sydney; Chloe's is empty
LABEL = re.compile(r"Times in ([^<.]+)")


def growth_stats(kit, token: str, day) -> dict:  # type: ignore[no-untyped-def]
    answer = requests.get(
        f"{kit.url}/v4/account/growth_stats",
        params={"starting": day.isoformat(), "ending": day.isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["stats"]


def test_the_sandbox_counts_a_day_in_the_accounts_zone(kit):
    zone = zone_apart_from_utc()
    move_account(kit, CHLOE, zone)
    token = real_grant(kit, CHLOE)["access_token"]
    created = requests.post(
        f"{kit.url}/v4/subscribers",
        json={"email_address": "night.owl@example.com"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert created.status_code == 201
    today = local_today(zone.name)
    assert today != datetime.now(UTC).date()
    assert growth_stats(kit, token, today)["new_subscribers"] == 1
    assert growth_stats(kit, token, datetime.now(UTC).date())["new_subscribers"] == 0


def test_the_sandbox_answers_each_seeded_day_as_the_accounts_day(kit):
    """New York's days for Ada's Kitchen, figure by figure, over a week."""
    token = real_grant(kit, ADA)["access_token"]
    data = kit.state.account_data(ADA)
    today = local_today("America/New_York")
    for back in range(7):
        day = today - timedelta(days=back)
        with kit.state.lock:
            expected = expected_stats(data, "America/New_York", day, day)
        answer = growth_stats(kit, token, day)
        assert {name: answer[name] for name in expected} == expected


def test_the_connection_keeps_the_accounts_zone(app, kit, user):
    connect(app, kit, account=ADA)
    row = stored(app)
    assert (row.timezone, row.timezone_label) == (
        "America/New_York",
        "Eastern Time (US & Canada)",
    )


def test_only_days_ended_in_the_accounts_zone_are_stored(
    app, client, kit, kit_browser, user
):
    zone = zone_apart_from_utc()
    move_account(kit, BEN, zone)
    install(client, kit_browser, account=BEN)  # the install's backfill runs
    today = local_today(zone.name)
    assert set(growth_days(app)) == {today - timedelta(days=n) for n in range(1, 90)}


def test_the_overview_counts_today_in_the_accounts_zone(client, kit, kit_browser, user):
    zone = zone_apart_from_utc()
    move_account(kit, CHLOE, zone)
    install(client, kit_browser, account=CHLOE)
    with kit.state.lock:
        kit.state.account_data(CHLOE).upsert_subscriber(
            "early.bird@example.com", "Early", datetime.now(UTC).replace(microsecond=0)
        )
    page = unescape(client.get("/c/1").text)
    today = local_today(zone.name)
    days = re.findall(r'<th scope="row">([^<]+)</th><td>(-?\d+)</td>', page)
    assert days[-1] == (f"{today.day} {today:%b}", "1")
    assert 'id="today-new">1<' in page
    assert LABEL.findall(page) == [zone.friendly_name]


def test_times_are_shown_in_the_accounts_zone_in_one_format(app, client):
    """India is 5:30 ahead: midnight UTC reads 05:30 the same day."""
    add_connection(app, timezone="Asia/Kolkata", timezone_label="Chennai")
    set_stored(app, 1, created_at=datetime(2026, 3, 1, 20, 45, tzinfo=UTC))
    add_events(app, [{"occurred_at": datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)}])
    sign_in(client)
    activity = unescape(client.get("/c/1/activity").text)
    assert "1 Jan 2026, 05:30" in activity
    assert "2026-01-01 00:00:05" not in activity
    assert 'datetime="2026-01-01T05:30:05+05:30"' in activity
    assert LABEL.findall(activity) == ["Chennai"]
    details = unescape(client.get("/connections/1").text)
    assert "2 Mar 2026, 02:15" in details  # connected: the next day in India
    assert " UTC" not in re.sub(r"Times in [^<]+", "", details)
    assert LABEL.findall(details) == ["Chennai"]


def test_an_unknown_zone_falls_back_to_utc_and_says_so(app, client):
    add_connection(app, timezone="Mars/Olympus_Mons", timezone_label="Olympus")
    add_events(app, [{"occurred_at": datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)}])
    sign_in(client)
    page = unescape(client.get("/c/1/activity").text)
    assert "1 Jan 2026, 00:00" in page
    assert LABEL.findall(page) == ["UTC"]


def test_a_connection_made_before_zones_were_kept_shows_utc(app, client):
    add_connection(app)  # no zone stored: the row predates migration 0009
    add_events(app, [{"occurred_at": datetime(2026, 1, 1, 23, 59, tzinfo=UTC)}])
    sign_in(client)
    page = unescape(client.get("/c/1/activity").text)
    assert "1 Jan 2026, 23:59" in page
    assert LABEL.findall(page) == ["UTC"]


def test_the_overview_follows_a_zone_changed_in_kit(
    app, client, kit, kit_browser, user
):
    """Reading the account again (the overview does) stores Kit's new zone and
    drops the days counted in the old one; the next view stores the new days."""
    install(client, kit_browser, account=BEN)  # London
    zone = zone_apart_from_utc()
    move_account(kit, BEN, zone)
    client.get("/c/1")
    assert (stored(app).timezone, stored(app).timezone_label) == (
        zone.name,
        zone.friendly_name,
    )
    client.get("/c/1")
    today = local_today(zone.name)
    assert sorted(growth_days(app)) == [
        today - timedelta(days=n) for n in range(29, 0, -1)
    ]
