"""Kit's answers for a plugin request, within a time budget.

Kit's editor waits on a block while the creator watches, and Kit documents no
timeout for it. So a block reads Kit's data in this order:

1. the cache of Kit's answers (`app/kit_cache.py`, per connection and its
   generation): no call to Kit at all;
2. else Kit, waited on for at most `PLUGIN_BLOCK_BUDGET` seconds (one of the
   process's slots for requests that wait on Kit held meanwhile,
   `app/kit_capacity.py`, counted per connection);
3. else, when Kit is slower than that, fails, or every slot is taken, the
   **kept copy**: the last answer Kit gave for it, kept for a day whatever
   the generation (Reload drops the cache, not this), and the call goes on in
   the background to fill both for the next request.

A connection whose grant needs reconnecting is served from the kept copy too.
Only when nothing was ever kept does the block say "Kit is slow, refresh in a
moment" (`KitUnavailable`), or "reconnect" (`NeedsReconnect`). One call per
answer is in flight per process: a slow Kit and a creator pressing refresh ten
times make one call, not ten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from flask import current_app

from app.extensions import cache
from app.kit.errors import KitError, KitUnavailable, NeedsReconnect
from app.kit_cache import generation, in_background, key
from app.kit_capacity import KitBusy, take_slot

KEPT_SECONDS = 24 * 3600
DEFAULT_BUDGET = 1.5

_in_flight: dict[str, Future[Any]] = {}
_lock = threading.Lock()


def kept_key(connection_id: int, name: str) -> str:
    return f"kit:{connection_id}:kept:{name}"


def within_budget(connection_id: int, name: str, compute: Callable[[], Any]) -> Any:
    """Kit's answer `name` for the connection (`compute` asks Kit for it),
    from the cache, from Kit within the budget, or as last kept."""
    entry = key(connection_id, generation(connection_id), name, {})
    value = cache.get(entry)
    if value is not None:
        return value
    budget = float(current_app.config.get("PLUGIN_BLOCK_BUDGET", DEFAULT_BUDGET))
    try:
        take_slot(owner=("plugin", connection_id))
        return _asking(entry, kept_key(connection_id, name), compute).result(budget)
    except (TimeoutError, KitError, KitBusy) as error:
        kept = cache.get(kept_key(connection_id, name))
        if kept is not None:
            return kept
        if isinstance(error, NeedsReconnect):
            raise
        raise KitUnavailable(f"Kit gave no {name} within {budget} s") from error


def _asking(entry: str, kept: str, compute: Callable[[], Any]) -> Future[Any]:
    """The call for `entry` in flight, started now if none is."""

    def ask() -> Any:
        try:
            value = compute()
            cache.set(entry, value)
            cache.set(kept, value, timeout=KEPT_SECONDS)
            return value
        finally:
            with _lock:
                _in_flight.pop(entry, None)

    with _lock:
        future = _in_flight.get(entry)
        if future is None:
            future = _in_flight[entry] = in_background(ask)
        return future
