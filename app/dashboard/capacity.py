"""How many requests of this process may wait on Kit at once.

gunicorn's threaded workers serve GUNICORN_THREADS requests at a time each. A
request that waits on Kit holds its thread for as long as Kit takes (up to
KIT_HTTP_TIMEOUT, more with a token refresh): with Kit slow, enough of them
take every thread and the pages that need no Kit call (sign-in, health, the
accounts list) queue behind them.

So a request about to call Kit first takes a slot (`take_slot`, called by
`data.py` where a Kit call starts: a page served from the cache takes none):
at most KIT_REQUESTS_PER_WORKER of them per process (default
GUNICORN_THREADS - 1, so a thread is always left for everything else), at
most KIT_REQUESTS_PER_USER of those for one creator (so one creator's tabs
cannot take them all). A slot is taken without waiting: a request that finds
none answers 503 at once, with Retry-After and a link to try again, and its
thread is free for the next request. The slot is held until the request ends.

The counts are per process, like the threads they protect (each gunicorn
worker builds its own app after the fork).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_login import current_user
from werkzeug.exceptions import ServiceUnavailable

from app.errors import problem

F = TypeVar("F", bound=Callable[..., Any])
KEY = "kit_capacity"
SLOT = "kit_slot"  # on `g` while this request holds a slot
RETRY_AFTER = 5  # seconds


class KitBusy(ServiceUnavailable):
    """Every slot for requests that wait on Kit is taken."""


class Capacity:
    def __init__(self, per_worker: int, per_user: int) -> None:
        self.per_worker = per_worker
        self.per_user = per_user
        self._lock = threading.Lock()
        self._in_use = 0
        self._by_user: Counter[Hashable] = Counter()

    @contextmanager
    def slot(self, user: Hashable) -> Iterator[None]:
        """Hold a slot for `user` while the block runs; KitBusy if none is free."""
        with self._lock:
            if self._in_use >= self.per_worker or self._by_user[user] >= self.per_user:
                raise KitBusy()
            self._in_use += 1
            self._by_user[user] += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_use -= 1
                self._by_user[user] -= 1
                if not self._by_user[user]:
                    del self._by_user[user]


def take_slot() -> None:
    """This request is about to call Kit: hold a slot until it ends (KitBusy if
    none is free). Once per request; outside a request (jobs, CLI, the pool's
    threads) there is nothing to protect."""
    if not has_request_context() or SLOT in g:
        return
    user = current_user.id if current_user.is_authenticated else request.remote_addr
    held = current_app.extensions[KEY].slot(user)
    held.__enter__()
    setattr(g, SLOT, held)


def _give_back(_: BaseException | None) -> None:
    held = g.pop(SLOT, None)
    if held is not None:
        held.__exit__(None, None, None)


def busy(error: KitBusy) -> tuple[Any, int, dict[str, str]]:
    """503 at once, with when and where to try again."""
    connection_id = (request.view_args or {}).get("connection_id")
    if request.method == "GET":
        action = ("Try again", request.full_path.rstrip("?"))
        message = (
            "This page waits on Kit, and this server is already waiting on Kit "
            f"for as many pages as it takes. Try again in {RETRY_AFTER} seconds."
        )
    else:
        page = (
            url_for("dashboard.overview", connection_id=connection_id)
            if connection_id
            else url_for("dashboard.index")
        )
        action = ("Back to your account", page)
        message = (
            "Nothing was saved: this server is already waiting on Kit for as many "
            f"requests as it takes. Go back and send it again in {RETRY_AFTER} "
            "seconds."
        )
    body, status = problem(503, "Busy waiting on Kit", message, [action])
    return body, status, {"Retry-After": str(RETRY_AFTER)}


def init_app(app: Flask) -> None:
    app.extensions[KEY] = Capacity(
        app.config["KIT_REQUESTS_PER_WORKER"], app.config["KIT_REQUESTS_PER_USER"]
    )
    # Its own handler: a 503 that says "try again in 5 seconds", not "Kit is down".
    app.register_error_handler(KitBusy, busy)
    app.teardown_request(_give_back)
