"""What the app reads from Kit, as typed values: the one place that knows the
shape of Kit's JSON.

Each `from_kit` takes Kit's decoded answer (or one item of a list) and never
raises on a missing or oddly typed field, except where the app cannot go on
without it (an account without an id). Templates and views read attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.kit.errors import KitUnavailable


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Account:
    """`GET /v4/account`: the Kit account a token belongs to."""

    id: str
    name: str
    primary_email_address: str
    plan_type: str = ""
    timezone: str = ""

    @classmethod
    def from_kit(cls, body: Any) -> Account:
        account = _object(_object(body).get("account"))
        account_id = _text(account.get("id"))
        if not account_id:
            raise KitUnavailable("Kit's /v4/account answer has no account id")
        return cls(
            id=account_id,
            name=_text(account.get("name")),
            primary_email_address=_text(account.get("primary_email_address")),
            plan_type=_text(account.get("plan_type")),
            timezone=_text(_object(account.get("timezone")).get("friendly_name")),
        )
