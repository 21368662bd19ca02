"""How the app calls Kit for a connection: the client factory, a cache of Kit's
answers per connection, and a page's independent calls in flight at once. Used
by the dashboard, webhooks, jobs, install and the CLI; owned by none of them.

Cache keys start with the connection id and its generation number: an entry is
never served to another connection, and bumping the generation (the "Reload"
button, or any write) makes every entry of that connection stale at once
without having to find them. The cache holds Kit's answers as they came, not
the typed values made from them on the way out: a deploy that changes a class
of `resources` never unpickles an old one from Redis.

A request about to call Kit (not one served from the cache) first takes one of
the process's slots for requests that wait on Kit (`kit_capacity.take_slot`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from flask import Flask, current_app

from app.extensions import cache
from app.kit.api import KitClient
from app.kit.errors import KitError, KitRateLimited, KitUnavailable, NeedsReconnect
from app.kit_capacity import take_slot

T = TypeVar("T")
log = logging.getLogger(__name__)

_pools: dict[int, ThreadPoolExecutor] = {}
#: Calls started by `in_background` that have not finished yet.
_background: set[Future[Any]] = set()
_background_lock = threading.Lock()


def client_for(connection_id: int) -> KitClient:
    return KitClient(
        connection_id,
        current_app.extensions["kit_settings"],
        current_app.config["TOKEN_REFRESH_LEEWAY"],
    )


# --- cache -----------------------------------------------------------------------


def generation_key(connection_id: int) -> str:
    """The cache entry of the connection's generation (read with others in
    one round trip by `app.dashboard.overview_cache`)."""
    return f"kit:{connection_id}:generation"


def generation(connection_id: int) -> int:
    return cache.get(generation_key(connection_id)) or 0


def invalidate(connection_id: int) -> None:
    """Make every cached Kit answer of this connection stale (and every page
    built from them: `app.dashboard.overview_cache`)."""
    cache.set(generation_key(connection_id), time.time_ns(), timeout=0)


def key(connection_id: int, generation: int, name: str, params: dict[str, Any]) -> str:
    return ":".join(
        (
            "kit",
            str(connection_id),
            str(generation),
            name,
            json.dumps(params, sort_keys=True, default=str),
        )
    )


def cached(
    connection_id: int,
    name: str,
    compute: Callable[[], T],
    timeout: int | None = None,
    **params: Any,
) -> T:
    entry = key(connection_id, generation(connection_id), name, params)
    value = cache.get(entry)
    if value is None:
        take_slot()
        value = compute()
        cache.set(entry, value, timeout=timeout)
    return value


# --- parallel calls ---------------------------------------------------------------


def _pool(app: Flask) -> ThreadPoolExecutor:
    size = app.config["KIT_PARALLEL_CALLS"]
    if size not in _pools:
        _pools[size] = ThreadPoolExecutor(size, thread_name_prefix="kit-call")
    return _pools[size]


def in_background(call: Callable[[], T]) -> Future[T]:
    """Start one Kit call on the pool, in this app's context, and return at
    once: a caller with a time budget waits on the future only as long as
    it may (`app.plugins.kept`), and the call finishes for the next one."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> T:
        with app.app_context():
            return call()

    future = _pool(app).submit(run)
    with _background_lock:
        _background.add(future)
    future.add_done_callback(_finished)
    return future


def _finished(future: Future[Any]) -> None:
    with _background_lock:
        _background.discard(future)


def wait_for_background(timeout: float | None = None) -> bool:
    """Wait until every call `in_background` started has finished (each has
    then given its database connection back); False if some still run after
    `timeout` seconds. For a process about to close its engine, such as a
    test's app: a call still running then would keep a connection the closed
    pool no longer knows, left for the garbage collector to drop unclosed."""
    with _background_lock:
        started = list(_background)
    _, running = wait(started, timeout=timeout)
    return not running


def in_parallel(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent Kit calls at once; return their results by name.

    If any failed, raises the failure that matters most to the creator: a
    needed reconnect, then the rate limit, then Kit being unavailable.
    """
    results, errors = _run_all(calls)
    if errors:
        raise worst(list(errors.values()))
    return results


def worst(errors: list[BaseException]) -> BaseException:
    """The failure that matters most to the creator: a needed reconnect, then
    the rate limit, then Kit being unavailable, then any other."""
    for kind in (NeedsReconnect, KitRateLimited, KitUnavailable, KitError, Exception):
        for error in errors:
            if isinstance(error, kind):
                return error
    return errors[0]


def _run_all(
    calls: dict[str, Callable[[], Any]],
) -> tuple[dict[str, Any], dict[str, BaseException]]:
    """Run the calls at once; their results and their failures, by name."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    def in_context(call: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with app.app_context():
                return call()

        return run

    futures = {
        name: _pool(app).submit(in_context(call)) for name, call in calls.items()
    }
    results, errors = {}, {}
    for name, future in futures.items():
        error = future.exception()
        if error is None:
            results[name] = future.result()
        else:
            errors[name] = error
    return results, errors


def answers(
    client: KitClient,
    cacheable: dict[str, Callable[[], Any]],
    fresh: dict[str, Callable[[], Any]] | None = None,
    *,
    optional: Collection[str] = (),
    failed: dict[str, BaseException] | None = None,
    answered_at: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Kit's answers by name: each of `cacheable` from the cache when it is
    there, the others and all of `fresh` (never cached) from Kit, at once.

    The cache is read once for all of them. When it holds them all and nothing
    is `fresh` (a warm page), no thread, token check or call to Kit is needed.

    A failed call raises (the worst failure, see `worst`), unless it is
    `optional`: then it is left out of the answers (logged, and kept in
    `failed` when given), so that a page shows what arrived and says what did
    not. A needed reconnect always raises.

    `answered_at`, when given, gets when Kit gave each cacheable answer (epoch
    seconds; 0 for an entry cached without that note): a page built from them
    and cached itself (the overview, `app.dashboard.overview_cache`) must not
    outlive the oldest. The notes ride in the same cache round trips.
    """
    connection_id = client.connection_id
    current = generation(connection_id)
    keys = {name: key(connection_id, current, name, {}) for name in cacheable}
    notes = {} if answered_at is None else {n: f"{k}:at" for n, k in keys.items()}
    read = cache.get_many(*keys.values(), *notes.values())
    found = zip(keys, read[: len(keys)], strict=True)
    results = {name: value for name, value in found if value is not None}
    if answered_at is not None:
        stamps = dict(zip(notes, read[len(keys) :], strict=True))
        answered_at.update({name: stamps[name] or 0.0 for name in results})
    calls = {name: call for name, call in cacheable.items() if name not in results}
    calls.update(fresh or {})
    if calls:
        take_slot()
        client.ensure_token()
        answered, errors = _run_all(calls)
        required = [e for name, e in errors.items() if name not in optional]
        if required or any(isinstance(e, NeedsReconnect) for e in errors.values()):
            raise worst(required or list(errors.values()))
        for name, error in errors.items():
            log.warning(
                "Kit call %s of connection %s failed: %s",
                name.split(":")[0],
                connection_id,
                type(error).__name__,
            )
        if failed is not None:
            failed.update(errors)
        kept = {keys[name]: answered[name] for name in keys if name in answered}
        if answered_at is not None:
            now = time.time()
            kept |= {notes[name]: now for name in keys if name in answered}
            answered_at.update({name: now for name in keys if name in answered})
        cache.set_many(kept)
        results.update(answered)
    return results
