"""What the dashboard pages read from the query string, validated: a
hand-edited link gets page 1 or the page's "not valid" state, never a 500."""

from __future__ import annotations

from typing import Any

from flask import request

from app.dashboard.data import Cursor
from app.kit.errors import KitValidationError
from app.models import KitConnection

MAX_PAGE = 10_000


def cursor() -> Cursor:
    """`after` or `before`: opaque to us, but short and printable."""

    def read(name: str) -> str | None:
        value = request.args.get(name, "")
        return value if value and len(value) <= 512 and value.isprintable() else None

    after = read("after")
    return Cursor(after, None if after else read("before"))


def pager_args(connection: KitConnection, **filters: str) -> dict[str, Any]:
    """What the Previous / Next links carry besides the cursor: the page's own
    (validated) filters, never the query string as it came."""
    return {"connection_id": connection.id} | {k: v for k, v in filters.items() if v}


def page_number() -> int:
    """`page` (1 to 10,000); anything else is page 1. Only for the "1–50 of
    N" line: the cursor says where the page starts."""
    value = request.args.get("page", "")
    if value.isdigit() and len(value) <= 5 and 1 <= int(value) <= MAX_PAGE:
        return int(value)
    return 1


def search_words() -> str | None:
    """`q` (or the older `email`): printable, at most 254 characters."""
    words = (request.args.get("q") or request.args.get("email") or "").strip()
    if len(words) > 254 or not words.isprintable():
        # A hand-edited link: the page's "not valid" state (400).
        raise KitValidationError(400, ["That search cannot be used."])
    return words or None
