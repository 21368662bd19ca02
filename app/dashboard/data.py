"""What the dashboard pages show, fetched from Kit: cached per connection,
with a page's independent calls in flight at once, and handed to the templates
as the typed values of `app.kit.resources`. (The overview, whose finished days
come from the database, is in `figures`.)

Cache keys start with the connection id and its generation number: an entry is
never served to another connection, and bumping the generation (the "Reload"
button, or any write) makes every entry of that connection stale at once
without having to find them. The cache holds Kit's answers as they came, not
the typed values made from them on the way out: a deploy that changes a class
of `resources` never unpickles an old one from Redis.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

from flask import Flask, current_app

from app.dashboard.capacity import take_slot
from app.extensions import cache
from app.kit.api import KitClient, Page
from app.kit.errors import KitError, KitRateLimited, KitUnavailable, NeedsReconnect
from app.kit.resources import Broadcast, Form, Sequence, Subscriber, Tag

T = TypeVar("T")
PER_PAGE = 50

_pools: dict[int, ThreadPoolExecutor] = {}


class Cursor(NamedTuple):
    """Where a page of a list starts: after `after`, before `before`, or at the
    first page. Kit's cursors are opaque: they are only passed back."""

    after: str | None = None
    before: str | None = None


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


def _key(connection_id: int, generation: int, name: str, params: dict[str, Any]) -> str:
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
    key = _key(connection_id, _generation(connection_id), name, params)
    value = cache.get(key)
    if value is None:
        take_slot()
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


def answers(
    client: KitClient,
    cacheable: dict[str, Callable[[], Any]],
    fresh: dict[str, Callable[[], Any]] | None = None,
) -> dict[str, Any]:
    """Kit's answers by name: each of `cacheable` from the cache when it is
    there, the others and all of `fresh` (never cached) from Kit, at once.

    The cache is read once for all of them. When it holds them all and nothing
    is `fresh` (a warm page), no thread, token check or call to Kit is needed.
    """
    connection_id = client.connection_id
    generation = _generation(connection_id)
    keys = {name: _key(connection_id, generation, name, {}) for name in cacheable}
    found = zip(keys, cache.get_many(*keys.values()), strict=True)
    results = {name: value for name, value in found if value is not None}
    calls = {name: call for name, call in cacheable.items() if name not in results}
    calls.update(fresh or {})
    if calls:
        take_slot()
        client.ensure_token()
        answered = in_parallel(calls)
        cache.set_many(
            {keys[name]: answered[name] for name in keys if name in answered}
        )
        results.update(answered)
    return results


# --- what the pages show ----------------------------------------------------------


def subscribers(
    connection_id: int, cursor: Cursor, status: str, email_address: str | None
) -> Page[Subscriber]:
    """A page of subscribers in `status`, or the one with that email address;
    with the count of them all on the first page."""
    return _page(
        connection_id,
        "subscribers",
        cursor,
        first_page_total=True,
        status=status,
        email_address=email_address,
    ).map(Subscriber.from_kit)


def forms(connection_id: int, cursor: Cursor) -> Page[Form]:
    """A page of forms, archived ones included."""
    return _page(connection_id, "forms", cursor, status="all").map(Form.from_kit)


def sequences(connection_id: int, cursor: Cursor) -> Page[Sequence]:
    return _page(connection_id, "sequences", cursor).map(Sequence.from_kit)


def broadcasts(connection_id: int, cursor: Cursor) -> Page[Broadcast]:
    return _page(connection_id, "broadcasts", cursor).map(Broadcast.from_kit)


def tags(connection_id: int) -> list[Tag]:
    """Every tag, all pages of them: the tags page shows them all."""
    client = client_for(connection_id)
    items = cached(
        connection_id, "all:tags", lambda: list(client.iterate("tags", "tags"))
    )
    return [Tag.from_kit(item) for item in items]


def _page(
    connection_id: int,
    path: str,
    cursor: Cursor,
    *,
    first_page_total: bool = False,
    **filters: Any,
) -> Page[dict[str, Any]]:
    """One page of a Kit list, cached; the total only on the first page."""
    client = client_for(connection_id)
    first = cursor == Cursor()
    query = {**filters, **cursor._asdict()}
    return cached(
        connection_id,
        f"page:{path}",
        lambda: client.page(
            path,
            path,
            per_page=PER_PAGE,
            include_total_count=first_page_total and first,
            **query,
        ),
        **query,
    )


# --- writes -----------------------------------------------------------------------


def _post(connection_id: int, path: str, body: dict[str, Any]) -> Any:
    """POST to Kit; once Kit has it, every cached answer of the connection is stale."""
    take_slot()
    answer = client_for(connection_id).post(path, body)
    invalidate(connection_id)
    return answer


def add_subscriber(
    connection_id: int, email_address: str, first_name: str | None
) -> None:
    _post(
        connection_id,
        "subscribers",
        {"email_address": email_address, "first_name": first_name},
    )


def create_tag(connection_id: int, name: str) -> Tag:
    """The tag of that name: Kit creates it, or answers with the one it has."""
    return Tag.created(_post(connection_id, "tags", {"name": name}))


def tag_subscriber(connection_id: int, tag_id: int, email_address: str) -> None:
    _post(
        connection_id,
        f"tags/{tag_id}/subscribers",
        {"email_address": email_address},
    )
