"""Times as Kit writes them: ISO 8601 (`2023-07-17T16:48:20Z`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(value: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime (one without an offset is
    taken as UTC); ValueError when it is not one, or is out of range."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00
        raise ValueError(f"{value!r} is out of range") from None


def kit_time(value: Any) -> datetime | None:
    """A time in one of Kit's answers, else None (missing, or not a time)."""
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None
