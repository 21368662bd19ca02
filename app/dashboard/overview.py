"""The overview's data: account, the period's growth (from the stored days,
`stored_days.py`, plus what still moves), email stats and the latest sent
broadcasts, in one batch of Kit calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from app.dashboard import period
from app.dashboard.chart import growth_chart
from app.extensions import cache, db
from app.kit.api import KitClient
from app.kit.resources import Account, EmailStats, GrowthStats
from app.kit.times import AccountZone
from app.kit_cache import answers, client_for, worst
from app.models import KitConnection
from app.stored_days import (
    FINISHED_SECONDS,
    ask_kit,
    day_key,
    follow_zone,
    store,
    stored,
    window,
)

LATEST_BROADCASTS = 5


def overview_data(
    connection_id: int, zone: AccountZone, length: int = period.DEFAULT_PERIOD
) -> dict[str, Any]:
    """Account, the period's days one by one (and their totals against the
    previous period's), email stats, the latest sent broadcasts: at most four
    calls to Kit once the finished days are stored, none while the cache
    holds the rest.

    Each panel stands on its own calls: one that failed leaves its panel out
    (named in `unavailable`, which the page shows as a notice), and the page
    shows the rest. A finished day that arrived is stored even when another
    did not.

    Days are the account's, in its sending time zone `zone` (the connection's
    stored one), as Kit counts them: "today" is still running there, the
    days before it are finished. The account read here refreshes the stored
    zone (`follow_zone`) when Kit says another."""
    today = zone.today()
    days = window(today, length)
    earlier = period.previous_days(today, length)
    have = stored(connection_id, [*earlier, *days[:-1]])
    missing = [day for day in days[:-1] if day not in have]
    client = client_for(connection_id)
    fresh = {day_key(day): ask_kit(client, day) for day in missing}
    previous = _previous(connection_id, client, earlier, have, fresh)
    calls = {
        "account": lambda: client.get("account"),
        "email_stats": lambda: client.get("account/email_stats"),
        "sent_broadcasts": lambda: client.page(
            "broadcasts/stats",
            "broadcasts",
            per_page=LATEST_BROADCASTS,
            status="completed",
        ),
        day_key(today): ask_kit(client, today),
    }
    failed: dict[str, BaseException] = {}
    stamps: dict[str, float] = {}
    found = answers(
        client,
        calls,
        fresh,
        optional=[*calls, *fresh],
        failed=failed,
        answered_at=stamps,
    )
    if failed and not found:  # nothing arrived: Kit is down, the page says so
        raise worst(list(failed.values()))
    arrived = {day: found[day_key(day)] for day in missing if day_key(day) in found}
    if arrived:
        store(connection_id, arrived)
    if previous is None and PREVIOUS in found:
        previous = _keep_previous(connection_id, earlier, found[PREVIOUS])
    # When Kit gave the oldest of the answers that expire: the rendered page
    # (`overview_cache`) is kept no longer than they are.
    panels: dict[str, Any] = {
        "unavailable": set(),
        "answered_at": min(stamps.values(), default=0.0),
    }
    if day_key(today) in found:  # Kit's own count of the account's today
        panels["kit_today"] = GrowthStats.from_kit(found[day_key(today)])
    if "account" in found:
        panels["account"] = account = Account.from_kit(found["account"])
        if follow_zone(connection_id, account.zone_columns()):
            _zone_moved(connection_id)
    else:
        panels["unavailable"].add("account")
    if "email_stats" in found:
        panels["email"] = EmailStats.from_kit(found["email_stats"])
    else:
        panels["unavailable"].add("email")
    if "sent_broadcasts" in found:
        panels["broadcasts"] = period.newest_sent_first(
            found["sent_broadcasts"].map(period.SentBroadcast.from_kit).items
        )
    else:
        panels["unavailable"].add("broadcasts")
    if previous is None or any(
        day not in have and day_key(day) not in found for day in days
    ):
        panels["unavailable"].add("growth")
        return panels
    daily = [
        (day, have[day] if day in have else GrowthStats.from_kit(found[day_key(day)]))
        for day in days
    ]
    current = period.totals([stats for _, stats in daily])
    return panels | {
        "totals": current,
        "kpis": period.kpis(current, previous, length),
        "figures_note": period.figures_note(current, previous, length),
        "chart": growth_chart(daily),
    }


PREVIOUS = "growth_stats:previous"


def _previous_key(connection_id: int, days: Sequence[date]) -> str:
    # No generation in it (Reload keeps it, like the stored days): these days
    # are finished, their totals do not change.
    return f"kit:{connection_id}:growth_stats:{days[0]}:{days[-1]}"


def _previous(
    connection_id: int,
    client: KitClient,
    days: Sequence[date],
    have: Mapping[date, GrowthStats],
    fresh: dict[str, Callable[[], Any]],
) -> GrowthStats | None:
    """The previous period's totals from the stored days, or from the cache;
    else None, having added the one call for them to `fresh`."""
    if all(day in have for day in days):
        return period.totals([have[day] for day in days])
    cached = cache.get(_previous_key(connection_id, days))
    if cached is not None:
        return GrowthStats.from_kit(cached)
    fresh[PREVIOUS] = lambda: client.get(
        "account/growth_stats",
        starting=days[0].isoformat(),
        ending=days[-1].isoformat(),
    )
    return None


def _keep_previous(
    connection_id: int, days: Sequence[date], answer: Any
) -> GrowthStats:
    if GrowthStats.complete_from_kit(answer) is not None:
        cache.set(_previous_key(connection_id, days), answer, timeout=FINISHED_SECONDS)
    return GrowthStats.from_kit(answer)


def _zone_moved(connection_id: int) -> None:
    """`follow_zone` wrote the row in a transaction of its own: the page's
    copy of it (if loaded) reads the zone again."""
    loaded = db.session.identity_map.get(
        db.session.identity_key(KitConnection, connection_id)
    )
    if loaded is not None:
        db.session.expire(loaded, ["timezone", "timezone_label"])
