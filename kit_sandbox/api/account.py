"""``/v4/account``, its growth stats and its email stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, jsonify, request

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
    """Counts for whole UTC days, ``starting`` to ``ending`` inclusive."""
    today = datetime.now(UTC).date()
    starting = parse_day(request.args.get("starting"), "Starting")
    ending = parse_day(request.args.get("ending"), "Ending") or today
    starting = starting or today - timedelta(days=GROWTH_DEFAULT_DAYS)
    if starting > ending:
        raise ApiError(422, "Starting must be on or before ending")
    with current_data() as data:
        stats: dict[str, Any] = data.growth.stats(starting, ending)
    stats["starting"] = f"{starting.isoformat()}T00:00:00Z"
    stats["ending"] = f"{ending.isoformat()}T23:59:59Z"
    return jsonify(stats=stats)


@bp.get("/account/email_stats")
@require_token
def email_stats() -> Response:
    with current_data() as data:
        stats = data.email_stats(datetime.now(UTC).replace(microsecond=0))
    return jsonify(stats=stats)
