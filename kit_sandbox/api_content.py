"""``/v4/forms``, ``/v4/sequences`` and ``/v4/broadcasts`` (read-only).

Forms and sequences are listed oldest first (by id); broadcasts newest first,
as Kit lists them.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from .api import bp, current_data, listing, require_token
from .params import MSG_NOT_FOUND, ApiError, parse_choice
from .records import Broadcast, EmailSequence, Form
from .state import current_state

FORM_STATUSES = ("active", "archived", "all")


@bp.get("/forms")
@require_token
def forms() -> Response:
    """``status``: active (default, not archived), archived or all."""
    status = parse_choice(request.args.get("status"), FORM_STATUSES, "active")
    state = current_state()
    with state.lock:
        found = [
            form
            for form in current_data().forms
            if status == "all" or form.archived == (status == "archived")
        ]
        body = listing("forms", found, Form.to_api)
    return jsonify(body)


@bp.get("/sequences")
@require_token
def sequences() -> Response:
    state = current_state()
    with state.lock:
        body = listing(
            "sequences", list(current_data().sequences), EmailSequence.to_api
        )
    return jsonify(body)


@bp.get("/broadcasts")
@require_token
def broadcasts() -> Response:
    state = current_state()
    with state.lock:
        found = list(current_data().broadcasts.values())
        body = listing("broadcasts", found, Broadcast.to_api, newest_first=True)
    return jsonify(body)


@bp.get("/broadcasts/<int:broadcast_id>/stats")
@require_token
def broadcast_stats(broadcast_id: int) -> Response:
    """Rates are percentages of recipients (48.2 means 48.2 %); drafts and
    scheduled broadcasts have all zeros."""
    state = current_state()
    with state.lock:
        broadcast = current_data().broadcasts.get(broadcast_id)
        if broadcast is None:
            raise ApiError(404, MSG_NOT_FOUND)
        body = broadcast.stats_to_api()
    return jsonify(body)
