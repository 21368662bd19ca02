"""Broadcasts with their figures: recipients, open, click and unsubscribe
rates (`GET /v4/broadcasts/stats`, and `/v4/broadcasts/<id>/stats` for one)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from app.dashboard.data import PER_PAGE, Cursor
from app.kit.api import Page
from app.kit.resources import Broadcast, BroadcastStats
from app.kit_cache import answers, client_for

#: `GET /v4/broadcasts/stats` holds the newest this many: older ones on a
#: page are asked for one by one.
STATS_PER_PAGE = 1000
SENT = ("completed", "sending")


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


def broadcast(
    connection_id: int, broadcast_id: int
) -> tuple[Broadcast, BroadcastStats | None]:
    """One broadcast and its figures (None when Kit did not answer for them),
    in one round trip; `KitNotFound` for an id not in this account."""
    client = client_for(connection_id)
    found = answers(
        client,
        {
            f"broadcast:{broadcast_id}": lambda: client.get(
                f"broadcasts/{broadcast_id}"
            ),
            f"broadcast_stats:{broadcast_id}": lambda: client.get(
                f"broadcasts/{broadcast_id}/stats"
            ),
        },
        optional={f"broadcast_stats:{broadcast_id}"},
    )
    item = (found[f"broadcast:{broadcast_id}"] or {}).get("broadcast")
    if f"broadcast_stats:{broadcast_id}" not in found:
        return Broadcast.from_kit(item), None
    body = found[f"broadcast_stats:{broadcast_id}"] or {}
    return Broadcast.from_kit(item), BroadcastStats.from_kit(body.get("broadcast"))
