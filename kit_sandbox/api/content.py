"""``/v4/forms``, ``/v4/sequences`` and ``/v4/broadcasts[/...]`` (read-only).

Forms and sequences are listed oldest first (by id); broadcasts newest first,
as Kit lists them.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from ..audience import AccountData
from ..records import BROADCAST_STATUSES, BroadcastRecord, FormRecord, SequenceRecord
from .blueprint import bp, current_data, list_response, require_token
from .params import MSG_NOT_FOUND, ApiError, parse_choice, parse_moment

FORM_STATUSES = ("active", "archived", "all")


@bp.get("/forms")
@require_token
def forms() -> Response:
    """``status``: active (default, not archived), archived or all."""
    status = parse_choice(request.args.get("status"), FORM_STATUSES, "active")
    return list_response(
        "forms",
        lambda data: (
            form
            for form in data.forms
            if status == "all" or form.archived == (status == "archived")
        ),
        FormRecord.to_api,
    )


@bp.get("/sequences")
@require_token
def sequences() -> Response:
    return list_response(
        "sequences", lambda data: data.sequences, SequenceRecord.to_api
    )


@bp.get("/broadcasts")
@require_token
def broadcasts() -> Response:
    return list_response(
        "broadcasts",
        lambda data: data.broadcasts.values(),
        BroadcastRecord.to_api,
        newest_first=True,
    )


@bp.get("/broadcasts/stats")
@require_token
def broadcasts_stats() -> Response:
    """Every broadcast's summary and stats, newest first, as
    ``/v4/broadcasts/<id>/stats`` gives them one at a time.

    Filters: ``status`` (one of Kit's five; anything else 422) and
    ``sent_after``/``sent_before`` (inclusive; a date means its whole UTC
    day) on when it went or goes out, ``send_at`` or else ``published_at``;
    a broadcast with neither (a draft) is left out when either is given."""
    args = request.args
    status = args.get("status")
    if status is not None:
        parse_choice(status, BROADCAST_STATUSES, status)
    after = parse_moment(args.get("sent_after"), "Sent after", end_of_day=False)
    before = parse_moment(args.get("sent_before"), "Sent before", end_of_day=True)

    def sent_in_window(broadcast: BroadcastRecord) -> bool:
        if after is None and before is None:
            return True
        sent = broadcast.sent_at
        return (
            sent is not None
            and (after is None or sent >= after)
            and (before is None or sent <= before)
        )

    def select(data: AccountData) -> list[BroadcastRecord]:
        return [
            broadcast
            for broadcast in data.broadcasts.values()
            if status in (None, broadcast.status) and sent_in_window(broadcast)
        ]

    return list_response(
        "broadcasts", select, BroadcastRecord.stats_item_to_api, newest_first=True
    )


def _broadcast(data: AccountData, broadcast_id: int) -> BroadcastRecord:
    broadcast = data.broadcasts.get(broadcast_id)
    if broadcast is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return broadcast


@bp.get("/broadcasts/<int:broadcast_id>")
@require_token
def broadcast(broadcast_id: int) -> Response:
    """One broadcast, the same item as in ``/v4/broadcasts``."""
    with current_data() as data:
        rendered = _broadcast(data, broadcast_id).to_api()
    return jsonify(broadcast=rendered)


@bp.get("/broadcasts/<int:broadcast_id>/stats")
@require_token
def broadcast_stats(broadcast_id: int) -> Response:
    """Rates are percentages of recipients (48.2 means 48.2 %); drafts and
    scheduled broadcasts have all zeros."""
    with current_data() as data:
        body = _broadcast(data, broadcast_id).stats_to_api()
    return jsonify(body)
