"""``/v4/account``, its growth stats and its email stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, jsonify, request

from ..audience import day_bounds, zone_of
from .blueprint import bp, current_account, current_data, require_token
from .params import ApiError, parse_day

GROWTH_DEFAULT_DAYS = 90


@bp.get("/account")
@require_token
def account() -> Response:
    return jsonify(current_account().to_api())


@bp.get("/account/growth_stats")
@require_token
def growth_stats() -> Response:
    """Counts for whole days, ``starting`` to ``ending`` inclusive, in the
    account's sending time zone as Kit counts them: "today" is the account's
    today, and the dates in the answer carry the zone's offset."""
    zone = current_account().timezone.name
    today = datetime.now(zone_of(zone)).date()
    starting = parse_day(request.args.get("starting"), "Starting")
    ending = parse_day(request.args.get("ending"), "Ending") or today
    starting = starting or today - timedelta(days=GROWTH_DEFAULT_DAYS)
    if starting > ending:
        raise ApiError(422, "Starting must be on or before ending")
    with current_data() as data:
        stats: dict[str, Any] = data.growth.stats(starting, ending, zone)
    start, end = day_bounds(starting, ending, zone)
    stats["starting"] = start.astimezone(zone_of(zone)).isoformat()
    stats["ending"] = (end - timedelta(seconds=1)).astimezone(zone_of(zone)).isoformat()
    return jsonify(stats=stats)


@bp.get("/account/email_stats")
@require_token
def email_stats() -> Response:
    with current_data() as data:
        stats = data.email_stats(datetime.now(UTC).replace(microsecond=0))
    return jsonify(stats=stats)
