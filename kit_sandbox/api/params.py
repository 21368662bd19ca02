"""Reading the query parameters and JSON bodies of Kit's API, Kit's way.

Every problem is an ``ApiError``; the API blueprint turns it into Kit's error
shape, ``{"errors": ["..."]}``. The messages copy Rails' validation wording
(``"Name can't be blank"``, ``"... is invalid"``), which is what Kit answers.

Nothing here touches ``request``: views pass in ``request.args`` or the parsed
body, so these helpers test without a request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

MSG_NOT_FOUND = "Not Found"
MSG_NOT_JSON = "Request body must be JSON"
MSG_NOT_OBJECT = "Request body must be a JSON object"
MSG_EMAIL_INVALID = "Email address is invalid"
MSG_STATUS_INVALID = "Status is not included in the list"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]00:00)")
# Deliberately loose (one @, a dot in the domain, no spaces): Kit's own check
# is not documented, and a sandbox that refuses real addresses is worse than
# one that accepts a few odd ones.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path


class ApiError(Exception):
    """A request Kit would refuse: answered as ``{"errors": [message]}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def invalid(label: str) -> ApiError:
    return ApiError(422, f"{label} is invalid")


def parse_day(value: str | None, label: str) -> date | None:
    """A ``YYYY-MM-DD`` parameter; None when absent or empty."""
    if not value:
        return None
    if not _DATE.fullmatch(value):
        raise invalid(label)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(label) from None


def parse_moment(value: str | None, label: str, *, end_of_day: bool) -> datetime | None:
    """A date or a UTC datetime parameter, as an inclusive bound.

    Kit documents ``created_after``/``created_before`` as ``yyyy-mm-dd`` but
    shows datetimes in its examples, so both are taken. A bare date stands for
    the whole day: its first second for a lower bound, its last for an upper
    one, so that ``created_after=D&created_before=D`` means "created on D".
    """
    if not value:
        return None
    if _DATE.fullmatch(value):
        day = parse_day(value, label)
        assert day is not None
        clock = time(23, 59, 59) if end_of_day else time(0, 0, 0)
        return datetime.combine(day, clock, tzinfo=UTC)
    if not _DATETIME.fullmatch(value):
        raise invalid(label)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(label) from None


def parse_choice(value: str | None, choices: tuple[str, ...], default: str) -> str:
    """A ``status``-like parameter: one of ``choices``; 422 for anything else."""
    if value is None:
        return default
    if value not in choices:
        raise ApiError(422, MSG_STATUS_INVALID)
    return value


def json_object(body: Any) -> dict[str, Any]:
    """The parsed JSON body (None if it wasn't JSON), which must be an object.

    Kit's write endpoints take JSON only; a form-encoded body is refused with
    a 422 rather than guessed at, so a client that forgets ``json=`` finds out.
    """
    if body is None:
        raise ApiError(422, MSG_NOT_JSON)
    if not isinstance(body, dict):
        raise ApiError(422, MSG_NOT_OBJECT)
    return body


def email_address(body: Mapping[str, Any]) -> str:
    """``body["email_address"]``, trimmed and lower-cased, or a 422."""
    value = body.get("email_address")
    if not isinstance(value, str):
        raise ApiError(422, MSG_EMAIL_INVALID)
    value = value.strip().lower()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(value):
        raise ApiError(422, MSG_EMAIL_INVALID)
    return value


def optional_text(body: Mapping[str, Any], key: str, label: str) -> str | None:
    """An optional string field: None when absent, null or blank."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(label)
    return value.strip() or None
