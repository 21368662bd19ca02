"""Broadcasts with their figures: recipients, open, click and unsubscribe
rates (`GET /v4/broadcasts/stats`, and `/v4/broadcasts/<id>/stats` for one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.dashboard.data import PER_PAGE, Cursor
from app.kit.api import MAX_PER_PAGE, KitClient, Page
from app.kit.resources import Broadcast, BroadcastStats, LinkClick
from app.kit_cache import answers, client_for

#: `GET /v4/broadcasts/stats` holds the newest this many: older ones on a
#: page are asked for one by one.
STATS_PER_PAGE = 1000
SENT = ("completed", "sending")
#: Links past this many are left out of a broadcast's clicks (a newsletter
#: has dozens; this bounds the pages followed).
MAX_LINKS = 5 * MAX_PER_PAGE


def broadcasts_with_stats(
    connection_id: int, cursor: Cursor
) -> tuple[Page[Broadcast], dict[int, BroadcastStats] | None]:
    """A page of broadcasts and the figures of the sent ones, by id (None
    when Kit did not answer for the figures: the list still shows).

    The page and `GET /v4/broadcasts/stats` (the newest 1,000) go out at once;
    a sent broadcast older than those (an account with more than 1,000) is
    then asked for alone, all such in one more round trip (one that fails
    shows without figures)."""
    client = client_for(connection_id)
    name = f"page:broadcasts:{cursor.after}:{cursor.before}"
    found = answers(
        client,
        {
            name: lambda: client.page(
                "broadcasts", "broadcasts", per_page=PER_PAGE, **cursor._asdict()
            ),
            "all:broadcast_stats": lambda: (
                client.page(
                    "broadcasts/stats", "broadcasts", per_page=STATS_PER_PAGE
                ).items
            ),
        },
        optional={"all:broadcast_stats"},
    )
    page = found[name].map(Broadcast.from_kit)
    if "all:broadcast_stats" not in found:
        return page, None
    stats = {
        _whole_id(item): BroadcastStats.from_kit(item)
        for item in found["all:broadcast_stats"]
    }
    missing = [b.id for b in page.items if b.status in SENT and b.id not in stats]
    if missing:
        alone: dict[str, Callable[[], Any]] = {
            f"broadcast_stats:{i}": partial(client.get, f"broadcasts/{i}/stats")
            for i in missing
        }
        more = answers(client, alone, optional=alone)
        for i in missing:
            if f"broadcast_stats:{i}" not in more:
                continue
            body = more[f"broadcast_stats:{i}"]
            stats[i] = BroadcastStats.from_kit((body or {}).get("broadcast"))
    return page, stats


def _whole_id(item: Any) -> int:
    try:
        return int(item.get("id"))
    except (AttributeError, TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class BroadcastPage:
    """What a broadcast's page shows; None where Kit did not answer."""

    broadcast: Broadcast
    stats: BroadcastStats | None
    clicks: list[LinkClick] | None


def broadcast(connection_id: int, broadcast_id: int) -> BroadcastPage:
    """One broadcast, its figures and its link clicks, in one round trip;
    `KitNotFound` for an id not in this account."""
    client = client_for(connection_id)
    stats_name, clicks_name = (
        f"broadcast_stats:{broadcast_id}",
        f"broadcast_clicks:{broadcast_id}",
    )
    found = answers(
        client,
        {
            f"broadcast:{broadcast_id}": lambda: client.get(
                f"broadcasts/{broadcast_id}"
            ),
            stats_name: lambda: client.get(f"broadcasts/{broadcast_id}/stats"),
            clicks_name: lambda: link_clicks(client, broadcast_id),
        },
        optional={stats_name, clicks_name},
    )
    item = (found[f"broadcast:{broadcast_id}"] or {}).get("broadcast")
    stats = None
    if stats_name in found:
        stats = BroadcastStats.from_kit((found[stats_name] or {}).get("broadcast"))
    clicks = None
    if clicks_name in found:
        clicks = sorted(
            map(LinkClick.from_kit, found[clicks_name]),
            key=lambda c: -c.unique_clicks,
        )
    return BroadcastPage(Broadcast.from_kit(item), stats, clicks)


def link_clicks(client: KitClient, broadcast_id: int) -> list[Any]:
    """`GET /v4/broadcasts/<id>/clicks`, every page: Kit's items as they came.
    The list is under `broadcast.clicks`, so `KitClient.iterate` (which reads
    a top-level key) does not fit."""
    items: list[Any] = []
    after: str | None = None
    while len(items) < MAX_LINKS:
        body = client.get(
            f"broadcasts/{broadcast_id}/clicks", per_page=MAX_PER_PAGE, after=after
        )
        body = body if isinstance(body, dict) else {}
        clicks = (body.get("broadcast") or {}).get("clicks")
        items.extend(clicks if isinstance(clicks, list) else [])
        pagination = body.get("pagination") or {}
        after = pagination.get("end_cursor")
        if not pagination.get("has_next_page") or not after:
            break
    return items[:MAX_LINKS]
