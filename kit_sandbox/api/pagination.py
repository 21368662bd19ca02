"""Kit's cursor pagination, shared by every list endpoint (KIT_PLATFORM.md §5).

A cursor names an item by its id, the way Kit's do: base64 of a JSON list
holding the id (``WzEzXQ==`` is ``[13]``). ``after=<end_cursor>`` asks for the
items that come after that id in the list's order, ``before=<start_cursor>``
for the ones before it. Because a cursor is a position *by id* and not an
offset, walking the pages stays exact while items are added: a new subscriber
gets a higher id and so never shifts the pages after the one you hold.

``before`` takes the ``per_page`` items just before its cursor; since a
``start_cursor`` sits on a page boundary, walking back retraces the very pages
seen going forward.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .params import ApiError

T = TypeVar("T")

DEFAULT_PER_PAGE = 500
MAX_PER_PAGE = 1000
MSG_PER_PAGE = f"Per page must be between 1 and {MAX_PER_PAGE}"
MSG_CURSOR = "Cursor is invalid"
MSG_BOTH_CURSORS = "Only one of after and before may be given"


def encode_cursor(item_id: int) -> str:
    return base64.b64encode(json.dumps([item_id]).encode()).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The id inside a cursor; 422 "Cursor is invalid" for anything else."""
    try:
        decoded = json.loads(base64.b64decode(cursor, validate=True))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(422, MSG_CURSOR) from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != 1
        or not isinstance(decoded[0], int)
        or isinstance(decoded[0], bool)
    ):
        raise ApiError(422, MSG_CURSOR)
    item_id: int = decoded[0]
    return item_id


@dataclass(frozen=True)
class PageParams:
    """``per_page``, ``after``/``before`` (as ids) and ``include_total_count``."""

    per_page: int = DEFAULT_PER_PAGE
    after: int | None = None
    before: int | None = None
    include_total_count: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> PageParams:
        per_page = DEFAULT_PER_PAGE
        if "per_page" in args:
            raw = args["per_page"].strip()
            # isdigit() alone would take "²" or "١٢"; keep to ASCII digits.
            if not (raw.isascii() and raw.isdigit()):
                raise ApiError(422, MSG_PER_PAGE)
            per_page = int(raw)
            if not 1 <= per_page <= MAX_PER_PAGE:
                raise ApiError(422, MSG_PER_PAGE)
        # Kit's schema marks both cursors nullable: an empty one means "none".
        after = args.get("after") or None
        before = args.get("before") or None
        if after and before:
            raise ApiError(422, MSG_BOTH_CURSORS)
        return cls(
            per_page=per_page,
            after=decode_cursor(after) if after else None,
            before=decode_cursor(before) if before else None,
            include_total_count=args.get("include_total_count", "").lower() == "true",
        )


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    items: list[T]
    has_previous_page: bool
    has_next_page: bool
    start_cursor: str | None
    end_cursor: str | None
    per_page: int
    #: The size of the whole (filtered) list; sent only when asked for.
    total_count: int | None

    def to_api(
        self, root: str, render: Callable[[T], dict[str, Any]]
    ) -> dict[str, Any]:
        """The response body: ``{root: [...], "pagination": {...}}``."""
        body: dict[str, Any] = {
            root: [render(item) for item in self.items],
            "pagination": {
                "has_previous_page": self.has_previous_page,
                "has_next_page": self.has_next_page,
                "start_cursor": self.start_cursor,
                "end_cursor": self.end_cursor,
                "per_page": self.per_page,
            },
        }
        if self.total_count is not None:
            body["total_count"] = self.total_count
        return body


def paginate(
    items: Sequence[T],
    params: PageParams,
    *,
    key: Callable[[T], int],
    newest_first: bool,
) -> CursorPage[T]:
    """One page of ``items`` (any order in, ordered by ``key`` id out).

    ``newest_first`` lists the highest ids first, as Kit does for subscribers
    and broadcasts.
    """
    sign = -1 if newest_first else 1
    ordered = sorted(items, key=lambda item: sign * key(item))
    positions = [sign * key(item) for item in ordered]
    if params.after is not None:
        start = bisect_right(positions, sign * params.after)
        end = min(start + params.per_page, len(ordered))
    elif params.before is not None:
        end = bisect_left(positions, sign * params.before)
        start = max(end - params.per_page, 0)
    else:
        start, end = 0, min(params.per_page, len(ordered))
    page = ordered[start:end]
    return CursorPage(
        items=page,
        has_previous_page=start > 0,
        has_next_page=end < len(ordered),
        start_cursor=encode_cursor(key(page[0])) if page else None,
        end_cursor=encode_cursor(key(page[-1])) if page else None,
        per_page=params.per_page,
        total_count=len(ordered) if params.include_total_count else None,
    )
