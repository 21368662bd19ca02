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
times make one call, not ten, and only the first waits the budget out.
"""

from __future__ import annotations

import threading
import time
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

#: The call in flight per connection and answer, and when it started.
_in_flight: dict[str, tuple[Future[Any], float]] = {}
_lock = threading.Lock()


def kept_key(connection_id: int, name: str) -> str:
    return f"kit:{connection_id}:kept:{name}"


def within_budget(connection_id: int, name: str, compute: Callable[[], Any]) -> Any:
    """Kit's answer `name` for the connection (`compute` asks Kit for it),
    from the cache, from Kit within the budget, or as last kept.

    The budget counts from when the call in flight started: while Kit is
    slower than the budget, the requests after the first answer from the
    kept copy at once instead of each waiting the budget out again."""
    entry = key(connection_id, generation(connection_id), name, {})
    value = cache.get(entry)
    if value is not None:
        return value
    budget = float(current_app.config.get("PLUGIN_BLOCK_BUDGET", DEFAULT_BUDGET))
    kept = kept_key(connection_id, name)
    try:
        take_slot(owner=("plugin", connection_id))
        future, started = _asking(entry, kept, compute)
        return future.result(max(0.0, budget - (time.monotonic() - started)))
    except (TimeoutError, KitError, KitBusy) as error:
        copy = cache.get(kept)
        if copy is not None:
            return copy
        if isinstance(error, NeedsReconnect):
            raise
        raise KitUnavailable(f"Kit gave no {name} within {budget} s") from error


def _asking(
    entry: str, kept: str, compute: Callable[[], Any]
) -> tuple[Future[Any], float]:
    """The call in flight for this answer (of any generation), started now
    if none is, and when it started."""

    def ask() -> Any:
        try:
            value = compute()
            cache.set(entry, value)
            cache.set(kept, value, timeout=KEPT_SECONDS)
            return value
        finally:
            with _lock:
                _in_flight.pop(kept, None)

    with _lock:
        if kept not in _in_flight:
            _in_flight[kept] = (in_background(ask), time.monotonic())
        return _in_flight[kept]
