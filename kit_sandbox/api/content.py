"""``/v4/forms``, ``/v4/sequences`` and ``/v4/broadcasts`` (read-only).

Forms and sequences are listed oldest first (by id); broadcasts newest first,
as Kit lists them.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from ..records import BroadcastRecord, FormRecord, SequenceRecord
from .blueprint import bp, current_data, list_response, require_token
from .params import MSG_NOT_FOUND, ApiError, parse_choice

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


@bp.get("/broadcasts/<int:broadcast_id>/stats")
@require_token
def broadcast_stats(broadcast_id: int) -> Response:
    """Rates are percentages of recipients (48.2 means 48.2 %); drafts and
    scheduled broadcasts have all zeros."""
    with current_data() as data:
        broadcast = data.broadcasts.get(broadcast_id)
        if broadcast is None:
            raise ApiError(404, MSG_NOT_FOUND)
        body = broadcast.stats_to_api()
    return jsonify(body)
