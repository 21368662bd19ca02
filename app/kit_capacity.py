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
cannot take them all). The slot is held until the request ends.

A request that finds no free slot waits for one while the slots are turning
over: a creator's burst (ten tabs restored at once) with Kit answering in
milliseconds is served, in turn. It waits at most KIT_SLOT_WAIT seconds, and
gives up sooner when no slot has been taken or given back for STALL_SECONDS
(Kit is slow: the slots will not come back soon). Then it answers 503 with
Retry-After and a link to try again, and its thread is free for the next
request: shedding is for a slow Kit, not a busy creator. A waiting request
holds its thread (and gives its database connection back to the pool first):
with Kit well that is milliseconds; with Kit slow, the pages that need no Kit
call wait at most about STALL_SECONDS behind the waiters.

The counts are per process, like the threads they protect (each gunicorn
worker builds its own app after the fork).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_login import current_user
from werkzeug.exceptions import ServiceUnavailable

from app.errors import problem
from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
KEY = "kit_capacity"
SLOT = "kit_slot"  # on `g` while this request holds a slot
RETRY_AFTER = 5  # seconds
# The longest a request waits for a slot while the slots are turning over.
DEFAULT_WAIT = 5.0
# No slot taken or given back for this long (seconds): Kit is slow, stop
# waiting. Kit answers in well under a second when it is well.
STALL_SECONDS = 2.0


class KitBusy(ServiceUnavailable):
    """Every slot for requests that wait on Kit is taken."""


class Capacity:
    def __init__(
        self,
        per_worker: int,
        per_user: int,
        wait: float = 0.0,
        stall: float = STALL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_worker = per_worker
        self.per_user = per_user
        self.wait = wait
        self.stall = min(stall, wait)
        self._clock = clock
        self._changed = threading.Condition()
        self._in_use = 0
        self._by_user: Counter[Hashable] = Counter()
        self._moved = clock()  # when a slot was last taken or given back

    @contextmanager
    def slot(
        self, user: Hashable, before_waiting: Callable[[], None] | None = None
    ) -> Iterator[None]:
        """Hold a slot for `user` while the block runs; KitBusy if none comes
        free in time (see the module's docstring). `before_waiting` runs
        first if the request has to wait."""
        if before_waiting is not None:
            with self._changed:
                full = self._full(user)
            if full:
                before_waiting()
        with self._changed:
            self._wait_for_room(user)
            self._in_use += 1
            self._by_user[user] += 1
            self._moved = self._clock()
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= 1
                self._by_user[user] -= 1
                if not self._by_user[user]:
                    del self._by_user[user]
                self._moved = self._clock()
                self._changed.notify_all()

    def _full(self, user: Hashable) -> bool:
        return self._in_use >= self.per_worker or self._by_user[user] >= self.per_user

    def _wait_for_room(self, user: Hashable) -> None:
        """Return once `user` may take a slot (the condition's lock held)."""
        deadline = self._clock() + self.wait
        while self._full(user):
            now = self._clock()
            give_up = min(deadline, self._moved + self.stall)
            if now >= give_up:
                raise KitBusy()
            self._changed.wait(give_up - now)


def take_slot(owner: Hashable | None = None) -> None:
    """This request is about to call Kit: hold a slot until it ends (KitBusy if
    none comes free in time). Once per request; outside a request (jobs, CLI, the pool's
    threads) there is nothing to protect. The slots per user count per
    `owner` when one is given: Kit's plugin calls come from Kit's addresses
    and carry no session, so they count per connection (`app.plugins.kept`)."""
    if not has_request_context() or SLOT in g:
        return
    if owner is not None:
        user: Hashable = owner
    elif current_user.is_authenticated:
        user = current_user.id
    else:
        user = request.remote_addr
    held = current_app.extensions[KEY].slot(user, _give_back_connection)
    held.__enter__()
    setattr(g, SLOT, held)


def _give_back_connection() -> None:
    """About to wait for a slot: return this request's database connection to
    the pool first, unless the session holds unsaved changes. Otherwise a
    burst of waiting requests holds every connection of the pool, and the
    requests with a slot wait for one (loaded rows reload when next read)."""
    session = db.session
    if not (session.new or session.dirty or session.deleted):
        session.rollback()


def _give_back(_: BaseException | None) -> None:
    held = g.pop(SLOT, None)
    if held is not None:
        held.__exit__(None, None, None)


def busy(error: KitBusy) -> tuple[Any, int, dict[str, str]]:
    """A 503 with when and where to try again."""
    connection_id = (request.view_args or {}).get("connection_id")
    if request.method == "GET":
        action = ("Try again", request.full_path.rstrip("?"))
        message = (
            "Kit is slow to answer right now, and this server is already "
            "waiting on it for as many pages as it takes. Try again in "
            f"{RETRY_AFTER} seconds."
        )
    else:
        page = (
            url_for("dashboard.overview", connection_id=connection_id)
            if connection_id
            else url_for("dashboard.index")
        )
        action = ("Back to your account", page)
        message = (
            "Nothing was saved: Kit is slow to answer right now, and this server "
            "is already waiting on it for as many requests as it takes. Go back "
            f"and send it again in {RETRY_AFTER} seconds."
        )
    body, status = problem(503, "Busy waiting on Kit", message, [action])
    return body, status, {"Retry-After": str(RETRY_AFTER)}


def init_app(app: Flask) -> None:
    app.extensions[KEY] = Capacity(
        app.config["KIT_REQUESTS_PER_WORKER"],
        app.config["KIT_REQUESTS_PER_USER"],
        wait=float(app.config.get("KIT_SLOT_WAIT", DEFAULT_WAIT)),
    )
    # Its own handler: a 503 that says "try again in 5 seconds", not "Kit is down".
    app.register_error_handler(KitBusy, busy)
    app.teardown_request(_give_back)
