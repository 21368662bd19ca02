"""Kit's email editor calls the app's content blocks here.

`POST /plugins/blocks/<name>` renders a block for Kit's `{"settings",
"styles"}`; `POST /plugins/blocks/<name>/search/<field>` answers a search
setting. Both are protected by the plugin token (`@plugin_route`: 401 with
`WWW-Authenticate` for a missing, expired, revoked or unknown token, rate
limited per token) and read only the connection the token belongs to.

The body is parsed here rather than with `request.get_json`: JSON nested
deeper than Python's recursion limit would otherwise be a 500, and Kit's
samples send JSON under a form content type.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request

from app.edge import accepts_body
from app.plugins import bp
from app.plugins.blocks import BY_NAME, Answer, answer, search
from app.plugins.guard import plugin_connection, plugin_route

BODY_LIMIT = 32 * 1024  # a block's settings and Kit's styles: a few KiB
BODY_TYPES = ["application/json", "text/plain"]


@bp.post("/blocks/<name>")
@accepts_body(BODY_LIMIT, BODY_TYPES)
@plugin_route
def block(name: str) -> tuple[Response, int]:
    found = BY_NAME.get(name)
    if found is None:
        return _json(_unknown(name))
    body = _body()
    if body is _UNREADABLE:
        return _json(_unreadable())
    return _json(answer(found, plugin_connection(), body))


@bp.post("/blocks/<name>/search/<field>")
@accepts_body(BODY_LIMIT, BODY_TYPES)
@plugin_route
def block_search(name: str, field: str) -> tuple[Response, int]:
    found = BY_NAME.get(name)
    if found is None or field not in found.searches:
        return _json(_unknown(f"{name}/{field}"))
    body = _body()
    if body is _UNREADABLE:
        return _json(_unreadable())
    return _json(search(found, field, plugin_connection(), body))


_UNREADABLE = object()


def _body() -> Any:
    """The JSON body (None when empty), whatever its content type says."""
    data = request.get_data(cache=True, parse_form_data=False)
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return _UNREADABLE


def _unknown(name: str) -> Answer:
    message = f"No block or search named {name[:60]!r}: see `flask kit plugins`."
    return {"code": 404, "errors": [message]}, 404


def _unreadable() -> Answer:
    message = 'Send JSON: {"settings": {...}, "styles": {...}}.'
    return {"code": 400, "errors": [message]}, 400


def _json(answered: Answer) -> tuple[Response, int]:
    body, status = answered
    return jsonify(body), status
