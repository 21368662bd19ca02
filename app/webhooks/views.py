"""`POST /webhooks/kit/<key>`: where Kit delivers a connection's events.

No sign-in and no CSRF token: Kit is the caller, and the signature proves
it. In this order, and nothing is stored unless every step passes:
1. the `key` in the URL names the endpoint, hence the connection (the body is
   never trusted for that): not of our keys' shape (checked before any query:
   a NUL is an error in a PostgreSQL text parameter) or unknown 404;
   disconnected 410, so Kit stops retrying;
2. `X-Kit-Signature` is checked on the raw bytes, before any parsing, against
   the current secret (and the previous one while its rotation window is
   open): 401;
3. the JSON is validated strictly: 400;
4. the events are inserted once each and the delivery noted, in one
   transaction that checks again that the connection is live (410 if a
   disconnect came in between), and only then acknowledged (200). Events of
   a type the creator switched off (`app.creator_data.kinds`) are
   acknowledged and never stored.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

from flask import request

from app.edge import accepts_body
from app.extensions import csrf, limiter
from app.kit_cache import invalidate
from app.webhooks import bp, legacy
from app.webhooks.signature import BadSignature, verify
from app.webhooks.store import (
    BadDelivery,
    Delivery,
    parse_delivery,
    receiver,
    store_delivery,
)

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # 100 events with their data fit many times over
# `store.new_key()`: token_urlsafe's alphabet; a little room on its length.
KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _answer(status: int, error: str) -> tuple[dict[str, Any], int]:
    return {"error": error}, status


@bp.post("/webhooks/kit/<key>")
@csrf.exempt
@limiter.exempt
@accepts_body(MAX_BODY, ("application/json",))
def receive(key: str) -> tuple[dict[str, Any], int]:
    if not KEY.fullmatch(key):
        return _answer(404, "unknown endpoint")
    now = time.time()
    found = receiver(key, datetime.fromtimestamp(now, UTC))
    if found is None:
        return _answer(404, "unknown endpoint")
    if found.gone:
        return _answer(410, "this connection was disconnected")
    raw = request.get_data(cache=False)
    try:
        verify(raw, request.headers.get("X-Kit-Signature", ""), found.secrets, now)
    except BadSignature as refused:
        # The reason, never the header or the body.
        log.warning("Refused a delivery to endpoint %s: %s", found.id, refused.reason)
        return _answer(401, "bad signature")
    try:
        delivery = parse_delivery(raw)
    except BadDelivery as bad:
        log.warning("Refused a delivery to endpoint %s: bad %s", found.id, bad)
        return _answer(400, "not a Kit delivery")
    wanted = [e for e in delivery.events if e.type not in found.not_kept]
    if not wanted:
        return {"received": len(delivery.events), "stored": 0}, 200
    stored = store_delivery(
        found.id,
        found.connection_id,
        Delivery(delivery.id, wanted),
        found.last_delivery_at,
    )
    if stored is None:
        return _answer(410, "this connection was disconnected")
    if stored:
        try:
            invalidate(found.connection_id)  # counts read from Kit have moved
        except Exception:  # the events are stored: acknowledge them anyway
            log.exception("Could not invalidate the cache of %s", found.connection_id)
    return {"received": len(delivery.events), "stored": stored}, 200


@bp.post("/webhooks/kit/legacy/<key>")
@csrf.exempt
@limiter.exempt
@accepts_body(legacy.MAX_BODY, ("application/json",))
def receive_legacy(key: str) -> tuple[dict[str, Any], int]:
    """A legacy webhook's delivery (`app.webhooks.legacy`): unsigned, so the
    key in the URL is the proof; unknown 404, disconnected 410, not Kit's
    body for the rule's event 400, else stored once and 200."""
    if not KEY.fullmatch(key):
        return _answer(404, "unknown webhook")
    found = legacy.receiver(key)
    if found is None:
        return _answer(404, "unknown webhook")
    if found.gone:
        return _answer(410, "this connection was disconnected")
    raw = request.get_data(cache=False)
    try:
        row = legacy.parse(found, raw, datetime.now(UTC))
    except legacy.BadLegacyDelivery as bad:
        log.warning("Refused a legacy delivery to rule %s: bad %s", found.id, bad)
        return _answer(400, "not a Kit delivery")
    if row["type"] in found.not_kept:  # switched off in the App settings
        return {"received": 1, "stored": 0}, 200
    stored = legacy.store(found, row)
    if stored is None:
        return _answer(410, "this connection was disconnected")
    if stored:
        try:
            invalidate(found.connection_id)
        except Exception:  # the event is stored: acknowledge it anyway
            log.exception("Could not invalidate the cache of %s", found.connection_id)
    return {"received": 1, "stored": stored}, 200
