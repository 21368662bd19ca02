"""What the dashboard pages show, fetched from Kit: cached per connection, and
with a page's independent calls in flight at once.

Cache keys start with the connection id and its generation number: an entry is
never served to another connection, and bumping the generation (the
"Refresh" button, or any write) makes every entry of that connection stale at
once without having to find them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from flask import Flask, current_app

from app.extensions import cache
from app.kit.api import KitClient, Page
from app.kit.errors import KitError, KitRateLimited, KitUnavailable, NeedsReconnect

T = TypeVar("T")
PAST_DAYS_SECONDS = 12 * 3600  # a finished day's growth figures do not change
GROWTH_DAYS = 30

_pools: dict[int, ThreadPoolExecutor] = {}


def client_for(connection_id: int) -> KitClient:
    return KitClient(
        connection_id,
        current_app.extensions["kit_settings"],
        current_app.config["TOKEN_REFRESH_LEEWAY"],
    )


# --- cache -----------------------------------------------------------------------


def _generation(connection_id: int) -> int:
    return cache.get(f"kit:{connection_id}:generation") or 0


def invalidate(connection_id: int) -> None:
    """Make every cached Kit answer of this connection stale."""
    cache.set(f"kit:{connection_id}:generation", time.time_ns(), timeout=0)


def cached(
    connection_id: int,
    name: str,
    compute: Callable[[], T],
    timeout: int | None = None,
    **params: Any,
) -> T:
    key = ":".join(
        (
            "kit",
            str(connection_id),
            str(_generation(connection_id)),
            name,
            json.dumps(params, sort_keys=True, default=str),
        )
    )
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=timeout)
    return value


# --- parallel calls ---------------------------------------------------------------


def _pool(app: Flask) -> ThreadPoolExecutor:
    size = app.config["KIT_PARALLEL_CALLS"]
    if size not in _pools:
        _pools[size] = ThreadPoolExecutor(size, thread_name_prefix="kit-call")
    return _pools[size]


def in_parallel(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent Kit calls at once; return their results by name.

    If any failed, raises the failure that matters most to the creator: a
    needed reconnect, then the rate limit, then Kit being unavailable.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    def in_context(call: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with app.app_context():
                return call()

        return run

    futures = {
        name: _pool(app).submit(in_context(call)) for name, call in calls.items()
    }
    results, errors = {}, []
    for name, future in futures.items():
        error = future.exception()
        if error is None:
            results[name] = future.result()
        else:
            errors.append(error)
    for kind in (NeedsReconnect, KitRateLimited, KitUnavailable, KitError, Exception):
        for error in errors:
            if isinstance(error, kind):
                raise error
    return results


# --- what the pages show ----------------------------------------------------------


def overview(connection_id: int, today: date | None = None) -> dict[str, Any]:
    """Account, the last 30 days day by day (and their totals), email stats,
    the latest broadcasts: 33 calls to Kit, all at once."""
    client = client_for(connection_id)
    client.ensure_token()
    today = today or datetime.now(UTC).date()
    start = today - timedelta(days=GROWTH_DAYS - 1)

    def growth(day: date, until: date) -> Callable[[], Any]:
        # Finished days are kept longer: their figures are final.
        timeout = PAST_DAYS_SECONDS if until < today else None
        return lambda: cached(
            connection_id,
            "growth_stats",
            lambda: client.get(
                "account/growth_stats",
                starting=day.isoformat(),
                ending=until.isoformat(),
            ),
            timeout,
            starting=day.isoformat(),
            ending=until.isoformat(),
        )

    days = [start + timedelta(days=n) for n in range(GROWTH_DAYS)]
    calls: dict[str, Callable[[], Any]] = {
        "account": lambda: cached(
            connection_id, "account", lambda: client.get("account")
        ),
        "email_stats": lambda: cached(
            connection_id, "email_stats", lambda: client.get("account/email_stats")
        ),
        "broadcasts": lambda: cached(
            connection_id,
            "latest_broadcasts",
            lambda: client.page("broadcasts", "broadcasts", per_page=5),
        ),
    }
    calls.update({f"day:{day.isoformat()}": growth(day, day) for day in days})
    results = in_parallel(calls)
    daily = [
        (day, (results[f"day:{day.isoformat()}"] or {}).get("stats") or {})
        for day in days
    ]
    return {
        "account": (results["account"] or {}).get("account") or {},
        "period": period_totals(daily),
        "email": (results["email_stats"] or {}).get("stats") or {},
        "broadcasts": results["broadcasts"],
        "daily": daily,
    }


def period_totals(daily: list[tuple[date, dict[str, Any]]]) -> dict[str, int]:
    """The 30 days' totals from the daily figures (no extra call to Kit):
    sums of the flows, and today's closing count of subscribers."""
    totals = {
        key: sum(int(stats.get(key) or 0) for _, stats in daily)
        for key in ("new_subscribers", "cancellations", "net_new_subscribers")
    }
    totals["subscribers"] = int((daily[-1][1] if daily else {}).get("subscribers") or 0)
    return totals


def list_page(
    connection_id: int,
    path: str,
    key: str,
    *,
    first_page_total: bool = False,
    **query: Any,
) -> Page:
    """One page of a Kit list, cached; the total only on the first page."""
    client = client_for(connection_id)
    first = not query.get("after") and not query.get("before")
    return cached(
        connection_id,
        f"page:{path}",
        lambda: client.page(
            path, key, include_total_count=first_page_total and first, **query
        ),
        **query,
    )


def all_items(connection_id: int, path: str, key: str, **filters: Any) -> list[dict]:
    client = client_for(connection_id)
    return cached(
        connection_id,
        f"all:{path}",
        lambda: list(client.iterate(path, key, **filters)),
        **filters,
    )
