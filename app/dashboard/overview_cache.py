"""The overview's rendered page, kept so that a creator who comes back to it
is served at about the cost of a static route, and a browser that comes back
with the page's ETag gets a 304.

What the page shows moves with:
- Kit's answers and the app's own rows behind them (the events of today):
  both are covered by the connection's cache generation, which a webhook
  delivery, Reload, a write and a disconnect bump (`kit_cache.invalidate`);
- the day (today's date in the account's zone);
- what each request reads anyway: the connection row (status, names, zone),
  its webhook endpoint's status, the user's other connections (the account
  switcher), the user, the route and the period.
All of it makes the entry's fingerprint, checked on every read in the same
round trip as the generation (`lookup`): any change is a miss, and the page
is rendered again. An entry also lives no longer than the oldest Kit answer
in it (`kit_cache.answers(answered_at=...)`), so a page is never older than
the Kit cache would have let it be.

Never kept: a page with a banner (reconnect, disconnected, Kit unavailable,
...), one with a panel that failed, one rendered while a flash message waits
(the message is shown once, then the page is kept on the next view).

Security: the entry's key and fingerprint hold the user's id, and the
connection was found among the signed-in user's own before the cache is
read. The CSRF tokens of the page's forms are not kept: the stored page has
a placeholder where they were, filled on the way out with this session's own
token; the ETag carries a tag of this session's CSRF secret and of a time
window shorter than the token's lifetime, so a browser's copy answered with
a 304 holds a token this session still accepts.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from app.extensions import cache
from app.kit_cache import generation_key
from app.models import KitConnection

# Every template the overview is made of: a deploy that changes one of them
# changes every fingerprint (`_templates`).
TEMPLATES = (
    "base.html",
    "_icons.html",
    "_macros.html",
    "dashboard/_layout.html",
    "dashboard/_panels.html",
    "dashboard/overview.html",
)
CACHE_CONTROL = "private, no-cache"  # the browser may keep it, and asks first


def own_connections() -> dict[int, str | None]:
    """The signed-in user's connections' webhook endpoint statuses by id
    (read with the user: `app.auth.sessions.load_user`)."""
    return {c.id: c.webhook_status for c in current_user.connections}


@dataclass
class Lookup:
    """The entry of one viewer's page: where it is kept, what it must match,
    and what was found (None: render it)."""

    key: str
    fingerprint: str
    entry: dict[str, Any] | None
    storable: bool


def lookup(connection: KitConnection, endpoint_status: str | None, days: int) -> Lookup:
    """Read the connection's generation and the viewer's page in one round
    trip; the page counts only if its fingerprint is this request's."""
    key = f"overview:{connection.id}:{current_user.id}:{request.endpoint}:{days}"
    if "_flashes" in session:  # shown once, in this render: never kept
        return Lookup(key, "", None, storable=False)
    current, entry = cache.get_many(generation_key(connection.id), key)
    zone = connection.zone
    parts = (
        _templates(),
        current or 0,
        current_user.id,
        current_user.email,
        request.endpoint,
        days,
        zone.today().isoformat(),
        endpoint_status,
        *(
            (c.id, c.label, c.status, c.tenant_name, c.kit_account_id)
            for c in current_user.connections
        ),
        connection.id,
        connection.timezone,
        connection.timezone_label,
        connection.created_at.isoformat(),
        connection.unsettled_refresh,  # "checking with Kit" (a lost answer)
    )
    fingerprint = hashlib.sha256(repr(parts).encode()).hexdigest()
    if (
        not isinstance(entry, dict)
        or entry.get("fingerprint") != fingerprint
        or entry.get("until", 0) <= time.time()
    ):
        entry = None
    return Lookup(key, fingerprint, entry, storable=True)


def serve(entry: dict[str, Any]) -> Response:
    """The kept page with this session's CSRF token, or a 304 for a browser
    whose copy is this one (for this session, in this time window)."""
    raw = session.get(_csrf_field())
    if raw is not None:
        tag = _etag(entry["etag"], raw)
        if request.if_none_match.contains(tag):
            return _revalidate(Response(status=304), tag)
    body = entry["html"].replace(_placeholder(), generate_csrf())
    tag = _etag(entry["etag"], session[_csrf_field()])
    return _revalidate(make_response(body), tag)


def keep(found: Lookup, html: str, answered_at: float) -> Response:
    """Store a page just rendered (unless it would outlive a Kit answer in
    it) and answer it with its ETag."""
    response = make_response(html)
    until = answered_at + current_app.config["KIT_CACHE_SECONDS"]
    if not found.storable or until - time.time() < 1:
        return response
    token = generate_csrf()  # the one this render put in the page's forms
    page = html.replace(token, _placeholder())
    etag = hashlib.sha256(page.encode()).hexdigest()[:24]
    cache.set(
        found.key,
        {"fingerprint": found.fingerprint, "etag": etag, "html": page, "until": until},
        timeout=max(1, int(until - time.time())),
    )
    return _revalidate(response, _etag(etag, session[_csrf_field()]))


def _revalidate(response: Response, tag: str) -> Response:
    response.set_etag(tag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _etag(page: str, csrf_secret: str) -> str:
    """The page's tag for this session: a copy made for another session, or
    older than half the CSRF token's lifetime, does not match."""
    limit = current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600)
    window = int(time.time() // max(60, limit // 2)) if limit else 0
    secret = str(current_app.secret_key).encode()
    message = f"{csrf_secret}:{window}".encode()
    mac = hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]
    return f"{page}.{mac}"


def _csrf_field() -> str:
    return str(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


def _placeholder() -> str:
    """Where the stored page had its CSRF token: not guessable, so that no
    text from Kit (a broadcast's subject) can ask for the token to be put in."""
    return str(_app_constants()["placeholder"])


def _templates() -> str:
    return str(_app_constants()["templates"])


def _app_constants() -> dict[str, str]:
    app = current_app
    found = app.extensions.get("overview_cache")
    if found is None:
        loader = app.jinja_env.loader
        assert loader is not None
        sources = "".join(loader.get_source(app.jinja_env, t)[0] for t in TEMPLATES)
        secret = str(app.secret_key).encode()
        found = {
            "templates": hashlib.sha256(sources.encode()).hexdigest()[:16],
            "placeholder": "csrf-"
            + hmac.new(secret, b"overview placeholder", hashlib.sha256).hexdigest(),
        }
        app.extensions["overview_cache"] = found
    return found
