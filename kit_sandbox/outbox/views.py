"""``/_sandbox/outbox``: the mail the app sent, as a page and as JSON.

Loopback clients only, like the control API: the messages hold sign-in links.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ..control import _loopback_only
from .sink import Outbox

bp = Blueprint("outbox", __name__, url_prefix="/_sandbox")
bp.before_request(_loopback_only)

EXTENSION = "kit_sandbox_outbox"


def current_outbox() -> Outbox:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


@bp.get("/outbox")
def page() -> str:
    """Newest first, with each message's links ready to click."""
    return render_template(
        "sandbox/outbox.html", messages=list(reversed(current_outbox().messages()))
    )


@bp.get("/outbox.json")
def as_json() -> Response:
    """``{"messages": [...]}``, oldest first; ``?to=`` keeps one recipient's."""
    found = current_outbox().messages(request.args.get("to"))
    return jsonify(messages=[mail.as_json() for mail in found])


@bp.delete("/outbox.json")
def clear() -> Response:
    current_outbox().clear()
    return jsonify(messages=[])
