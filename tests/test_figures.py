"""Kit's finished days kept locally: the install backfills them, the overview
reads them from the database and asks Kit only for what still moves, and the
jobs fill any gap, once per day however often or concurrently they run."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select

from app import stored_days
from app.extensions import db
from app.jobs.figures import backfill_figures, sync_figures
from app.kit import api
from app.models import GrowthDay
from tests.servers import free_port
from tests.support.accounts import create_user, sign_in, signed_in
from tests.support.installing import connect_with_days, install
from tests.support.rows import delete_growth_days, growth_days, set_stored, stored
from tests.zones import NEW_YORK, local_today

ADA, BEN = 1001, 1002
# One day's answer from Kit's growth_stats, every figure in it.
KIT_DAY = {
    "stats": {
        "subscribers": 1,
        "new_subscribers": 2,
        "cancellations": 3,
        "net_new_subscribers": 4,
    }
}
OVERVIEW_CALLS = [
    "/v4/account",
    "/v4/account/email_stats",
    "/v4/account/growth_stats",
    "/v4/broadcasts/stats",
]
KEPT = 89  # finished days kept: the longest period, 90 days, less today


@pytest.fixture
def ada(client, kit, user):  # type: ignore[no-untyped-def]
    """The signed-in user connected to Ada's Kitchen, the big account, its days
    stored by the install's backfill (without the consent round trip: the
    tests about installing install)."""
    connect_with_days(client.application, kit, ADA)
    return kit.state.account_data(ADA)


@dataclass
class Traffic:
    """The app's calls to Kit's API as they leave: the days of growth figures
    asked for (and the ranges, for a previous period's totals), and how many
    calls were in flight at once, at most."""

    growth_days: list[date] = field(default_factory=list)
    growth_ranges: list[tuple[date, date]] = field(default_factory=list)
    most_at_once: int = 0
    in_flight: int = 0
    # Calls held until this many are in flight together (at most 5 s), so a
    # busy machine starting the app's threads late cannot pass for calls made
    # one after the other; 0 holds nothing.
    gather: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)


@pytest.fixture
def traffic(kit, monkeypatch) -> Iterator[Traffic]:  # type: ignore[no-untyped-def]
    """Watch the real transport (the calls still go to the sandbox). Kit gets
    100 ms slower, and a test sets `gather`, so that calls sent at once are
    seen in flight together however busy the machine is."""
    session = api.http_session()
    send = session.request
    seen = Traffic()

    def request(method: str, url: str, **kwargs: Any) -> Any:
        with seen.lock:
            seen.in_flight += 1
            seen.most_at_once = max(seen.most_at_once, seen.in_flight)
            if seen.gather:
                seen.lock.notify_all()
                if seen.lock.wait_for(lambda: seen.in_flight >= seen.gather, 5):
                    seen.gather = 0  # gathered: the rest go as they come
            if url.endswith("/account/growth_stats"):
                params = kwargs["params"]
                starting = date.fromisoformat(params["starting"])
                ending = date.fromisoformat(params["ending"])
                if starting == ending:  # one whole day
                    seen.growth_days.append(starting)
                else:
                    seen.growth_ranges.append((starting, ending))
        try:
            return send(method, url, **kwargs)
        finally:
            with seen.lock:
                seen.in_flight -= 1

    monkeypatch.setattr(session, "request", request)
    kit.config.latency_ms = 100
    yield seen


def today() -> date:
    """Ada's today: Kit's days are her account's, in New York."""
    return local_today(NEW_YORK)


def finished_days(count: int = KEPT) -> list[date]:
    """The last `count` finished days, oldest first (all those kept, else
    the finished ones of a period of `count` + 1 days)."""
    return [today() - timedelta(days=n) for n in range(count, 0, -1)]


def seed(account, day: date) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    """The sandbox's own figures for one day, in the table's order."""
    stats = account.growth.stats(day, day, NEW_YORK)
    return (
        stats["subscribers"],
        stats["new_subscribers"],
        stats["cancellations"],
        stats["net_new_subscribers"],
    )


def calls_since(kit, start: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The paths of the API requests the sandbox logged after the first `start`."""
    return sorted(entry["path"] for entry in kit.state.api_requests[start:])


# --- install and overview ------------------------------------------------------------


def test_the_install_stores_the_89_finished_days_as_kit_has_them(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser, account=ADA)
    ada = kit.state.account_data(ADA)
    days = growth_days(app)
    assert sorted(days) == finished_days()  # today is not finished: not stored
    assert days == {day: seed(ada, day) for day in finished_days()}


def test_overview_asks_kit_four_things_at_once_and_nothing_when_warm(
    client, kit, ada, traffic
):
    start = len(kit.state.api_requests)
    traffic.gather = 4
    assert client.get("/dashboard").status_code == 200
    assert calls_since(kit, start) == OVERVIEW_CALLS
    assert traffic.growth_days == [today()]
    assert traffic.most_at_once == 4

    start = len(kit.state.api_requests)
    assert client.get("/dashboard").status_code == 200
    assert client.get("/c/1").status_code == 200
    assert calls_since(kit, start) == []


def test_with_the_cache_off_the_stored_days_still_count(make_app, kit, kit_browser):
    app = make_app(KIT_CACHE_SECONDS=0)
    client = app.test_client()
    signed_in(client)
    install(client, kit_browser, account=ADA)
    for _ in range(2):
        start = len(kit.state.api_requests)
        assert client.get("/dashboard").status_code == 200
        assert calls_since(kit, start) == OVERVIEW_CALLS


def test_chart_and_totals_are_the_seed_figures(client, ada):
    page = unescape(client.get("/dashboard").text)
    shown = re.findall(r'<th scope="row">([^<]+)</th><td>(-?\d+)</td>', page)
    days = [*finished_days(29), today()]
    assert shown == [
        (
            f"{day.day} {day:%b}",
            str(ada.growth.stats(day, day, NEW_YORK)["net_new_subscribers"]),
        )
        for day in days
    ]
    month = ada.growth.stats(days[0], today(), NEW_YORK)
    for key in ("new_subscribers", "cancellations"):
        assert f">{month[key]:,}<" in page
    assert f">{month['net_new_subscribers']:+,}<" in page
    assert f">{ada.growth.stats(today(), today(), NEW_YORK)['subscribers']:,}<" in page


def test_finished_days_are_read_from_the_table(app, client, ada):
    """What the table says is what the page shows: Kit is not asked again."""
    day = finished_days(29)[10]
    with app.app_context():
        row = db.session.scalars(select(GrowthDay).where(GrowthDay.day == day)).one()
        row.net_new_subscribers = 4321
        db.session.commit()
    page = unescape(client.get("/dashboard").text)
    assert f'<th scope="row">{day.day} {day:%b}</th><td>4321</td>' in page


def test_missing_days_join_the_same_batch_and_are_stored(
    app, client, kit, ada, traffic
):
    gap = [finished_days(29)[n] for n in (0, 14, 28)]
    delete_growth_days(app, days=gap)
    start = len(kit.state.api_requests)

    traffic.gather = 7
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert calls_since(kit, start) == sorted(
        OVERVIEW_CALLS + ["/v4/account/growth_stats"] * 3
    )
    assert sorted(traffic.growth_days) == [*gap, today()]
    assert traffic.most_at_once == 7  # one batch, never one after the other
    assert growth_days(app) == {day: seed(ada, day) for day in finished_days()}


def test_reload_drops_the_cache_but_keeps_the_stored_days(
    app, client, kit, ada, traffic
):
    client.get("/dashboard")
    kept = growth_days(app)
    assert client.post("/c/1/reload").status_code == 302
    traffic.growth_days.clear()
    start = len(kit.state.api_requests)

    assert client.get("/dashboard").status_code == 200
    assert calls_since(kit, start) == OVERVIEW_CALLS
    assert traffic.growth_days == [today()]
    assert growth_days(app) == kept


def test_disconnect_deletes_the_connections_stored_days(app, client, kit, ada):
    connect_with_days(app, kit, BEN)
    bens = growth_days(app, 2)
    assert len(bens) == KEPT
    response = client.post("/connections/1/disconnect")
    assert response.status_code == 302
    assert stored(app).status == "revoked"
    assert growth_days(app, 1) == {}
    assert growth_days(app, 2) == bens  # the other connection keeps its own


# --- the backfill and its jobs -------------------------------------------------------


def test_a_second_backfill_stores_nothing_and_asks_kit_nothing(app, kit, ada):
    delete_growth_days(app)
    with app.app_context():
        assert stored_days.backfill(1) == KEPT
        start = len(kit.state.api_requests)
        assert stored_days.backfill(1) == 0
    assert calls_since(kit, start) == []
    assert growth_days(app) == {day: seed(ada, day) for day in finished_days()}


def test_two_backfills_at_once_store_each_day_once(app, kit, ada):
    delete_growth_days(app)
    kit.config.latency_ms = 50  # both are asking Kit when either stores
    barrier = threading.Barrier(2)
    added: list[int] = []

    def run() -> None:
        with app.app_context():
            barrier.wait()
            added.append(backfill_figures(1))

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert sum(added) == KEPT
    assert growth_days(app) == {day: seed(ada, day) for day in finished_days()}


def test_storing_a_stored_day_again_changes_nothing(app, ada):
    day = finished_days()[3]
    with app.app_context():
        assert stored_days.store(1, {day: KIT_DAY}) == 0  # the install stored it
    assert growth_days(app)[day] == seed(ada, day)


def test_figures_fetched_across_a_disconnect_are_not_kept(app, client, ada):
    """A backfill still asking Kit when the creator disconnects stores nothing
    when it is done."""
    day = finished_days()[3]
    assert client.post("/connections/1/disconnect").status_code == 302
    with app.app_context():
        assert stored_days.store(1, {day: KIT_DAY}) == 0
    assert growth_days(app) == {}


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"stats": {}},
        {"stats": {"subscribers": 5, "new_subscribers": 1, "cancellations": 0}},
        {"stats": {"subscribers": "5", "new_subscribers": 1, "cancellations": 0}},
        {"stats": None},
    ],
)
def test_an_answer_without_every_figure_is_not_kept(app, ada, answer):
    day = finished_days()[3]
    delete_growth_days(app, days=[day])
    with app.app_context():
        assert stored_days.store(1, {day: answer}) == 0
    assert day not in growth_days(app)


def test_a_kit_failure_in_a_backfill_leaves_the_table_as_it_was(app, kit, ada, caplog):
    delete_growth_days(app, days=finished_days()[:5])
    before = growth_days(app)
    kit.state.add_fault("api", "500", times=1000)
    with app.app_context():
        assert backfill_figures(1) == 0
    assert growth_days(app) == before
    assert "Growth figures of connection 1 not fetched: KitUnavailable" in caplog.text


def test_the_install_succeeds_when_the_backfill_fails_and_the_page_fills_in(
    app, client, kit, kit_browser, user
):
    kit.config.rate_limit = 1  # the install's account call, then only 429s
    response = install(client, kit_browser, account=ADA)
    assert response.status_code == 302
    assert stored(app).status == "active"
    assert growth_days(app) == {}

    kit.config.rate_limit = 600
    start = len(kit.state.api_requests)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert calls_since(kit, start) == sorted(
        # the period's 29 finished days, and the previous period's totals
        OVERVIEW_CALLS + ["/v4/account/growth_stats"] * 30
    )
    ada = kit.state.account_data(ADA)
    assert growth_days(app) == {day: seed(ada, day) for day in finished_days(29)}


def test_the_install_succeeds_when_the_job_queue_is_down(
    make_app, kit, kit_browser, caplog
):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    client = app.test_client()
    # Account mail goes through the job queue too (down): a stored user.
    create_user(app)
    sign_in(client)
    response = install(client, kit_browser, account=ADA)
    assert response.status_code == 302
    assert response.location == "/dashboard"
    assert stored(app).status == "active"
    assert growth_days(app) == {}
    assert "Could not queue the backfill of connection 1" in caplog.text


def test_sync_backfills_every_active_connection_and_only_those(app, client, kit, ada):
    connect_with_days(app, kit, BEN)
    delete_growth_days(app, 1)
    delete_growth_days(app, 2, days=finished_days()[-2:])
    set_stored(app, 2, status="needs_reconnect")
    with app.app_context():
        assert sync_figures() == 1
    assert len(growth_days(app, 1)) == KEPT
    assert len(growth_days(app, 2)) == KEPT - 2
