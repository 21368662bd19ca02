"""What the app reads from Kit, as typed values: the one place that knows the
shape of Kit's JSON.

Each `from_kit` takes Kit's decoded answer (or one item of a list) and never
raises on a missing or oddly typed field, except where the app cannot go on
without it (an account without an id). Templates and views read attributes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

from app.kit.errors import KitUnavailable
from app.kit.times import AccountZone, kit_time


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _whole(value: Any) -> int:
    """A count from Kit: 0 for a missing or non-numeric value."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def _number(value: Any) -> float:
    """A figure with a fraction from Kit (a rate like 48.2): 0.0 if unusable."""
    if isinstance(value, bool):
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) else 0.0


@dataclass(frozen=True)
class Account:
    """`GET /v4/account`: the Kit account a token belongs to."""

    id: str
    name: str
    primary_email_address: str
    plan_type: str = ""
    #: The sending time zone as Kit names it to the creator.
    timezone: str = ""
    #: Its IANA name ("America/New_York"): Kit's days are this zone's.
    timezone_name: str = ""

    @classmethod
    def from_kit(cls, body: Any) -> Account:
        account = _object(_object(body).get("account"))
        account_id = _text(account.get("id"))
        if not account_id:
            raise KitUnavailable("Kit's /v4/account answer has no account id")
        zone = _object(account.get("timezone"))
        return cls(
            id=account_id,
            name=_text(account.get("name")),
            primary_email_address=_text(account.get("primary_email_address")),
            plan_type=_text(account.get("plan_type")),
            timezone=_text(zone.get("friendly_name")),
            timezone_name=_text(zone.get("name")),
        )

    @property
    def zone(self) -> AccountZone:
        """The zone to count days and show times in (UTC if Kit's is unknown)."""
        return AccountZone.of(self.timezone_name[:64], self.timezone[:100])

    def zone_columns(self) -> tuple[str, str]:
        """What a connection stores of the zone: ("", "") for none, or one
        this machine does not know (it reads as UTC, and is asked again)."""
        zone = self.zone
        known = zone.name == self.timezone_name
        return (zone.name, zone.label) if known else ("", "")


# The rest is read by one rule, `_Record.from_kit`: each field from the key of
# its name, converted by its type; a key that is missing, empty or of a type
# that does not convert leaves the field's default.

_READERS: dict[str, Callable[[Any], Any]] = {
    "str": _text,
    "int": _whole,
    "float": _number,
    "bool": bool,
    "datetime | None": kit_time,
}


@dataclass(frozen=True)
class _Record:
    @classmethod
    def from_kit(cls, item: Any) -> Self:
        """From one JSON object of Kit's (an item of a list)."""
        item = _object(item)
        read = ((f.name, _READERS[str(f.type)](item.get(f.name))) for f in fields(cls))
        return cls(**{name: value for name, value in read if value})


@dataclass(frozen=True)
class _Stats(_Record):
    @classmethod
    def from_kit(cls, item: Any) -> Self:
        """From Kit's whole answer: the figures are under `stats`."""
        return super().from_kit(_object(item).get("stats"))


@dataclass(frozen=True)
class GrowthStats(_Stats):
    """`GET /v4/account/growth_stats`: subscriber flows from `starting` to
    `ending`, whole days; `subscribers` is the count at the end."""

    subscribers: int = 0
    new_subscribers: int = 0
    cancellations: int = 0
    net_new_subscribers: int = 0

    @classmethod
    def complete_from_kit(cls, body: Any) -> Self | None:
        """From Kit's whole answer if it holds every figure as a number, else
        None: figures kept for good must not be zeros standing in for a gap."""
        stats = _object(_object(body).get("stats"))
        if all(type(stats.get(f.name)) is int for f in fields(cls)):
            return cls.from_kit(body)
        return None


@dataclass(frozen=True)
class EmailStats(_Stats):
    """`GET /v4/account/email_stats`: totals over Kit's last 90 days."""

    sent: int = 0
    opened: int = 0
    clicked: int = 0


@dataclass(frozen=True)
class Subscriber(_Record):
    """An item of `GET /v4/subscribers` (or `GET /v4/subscribers/<id>`'s
    `subscriber`)."""

    id: int = 0
    email_address: str = ""
    first_name: str = ""
    state: str = ""
    created_at: datetime | None = None
    #: In a tag's list of subscribers: when they got the tag.
    tagged_at: datetime | None = None
    #: In a form's or a sequence's list of subscribers: when they were added.
    added_at: datetime | None = None

    def matches(self, words: str) -> bool:
        """`words` (lower case) is part of the email address or first name."""
        return words in self.email_address.lower() or words in self.first_name.lower()


@dataclass(frozen=True)
class CustomField(_Record):
    """An item of `GET /v4/custom_fields`: `key` names the value in a
    subscriber's `fields`, `label` is what the creator called it."""

    id: int = 0
    key: str = ""
    label: str = ""


@dataclass(frozen=True)
class SubscriberTag(_Record):
    """An item of `GET /v4/subscribers/<id>/tags`."""

    id: int = 0
    name: str = ""
    tagged_at: datetime | None = None


def custom_values(body: Any, fields_: list[CustomField]) -> list[tuple[str, str]]:
    """A subscriber's custom fields as (label, value), in the account's order
    of fields; "" for a field without a value."""
    values = _object(_object(_object(body).get("subscriber")).get("fields"))
    return [(f.label or f.key, _text(values.get(f.key)).strip()) for f in fields_]


@dataclass(frozen=True)
class Tag(_Record):
    """An item of `GET /v4/tags`."""

    id: int = 0
    name: str = ""
    created_at: datetime | None = None

    @classmethod
    def created(cls, body: Any) -> Tag:
        """From `POST /v4/tags`'s answer: the new tag, or Kit's of that name."""
        return cls.from_kit(_object(body).get("tag"))


@dataclass(frozen=True)
class Form(_Record):
    """An item of `GET /v4/forms`."""

    id: int = 0
    name: str = ""
    type: str = ""
    format: str = ""
    embed_url: str = ""
    archived: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True)
class Sequence(_Record):
    """An item of `GET /v4/sequences`."""

    id: int = 0
    name: str = ""
    hold: bool = False
    repeat: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True)
class Broadcast(_Record):
    """An item of `GET /v4/broadcasts`."""

    subject: str = ""
    preview_text: str = ""
    #: The email's HTML as the creator wrote it: untrusted (see
    #: `app.dashboard.preview`).
    content: str = ""
    status: str = "draft"
    public: bool = False
    created_at: datetime | None = None
    published_at: datetime | None = None
    send_at: datetime | None = None
    id: int = 0


@dataclass(frozen=True)
class BroadcastStats(_Stats):
    """A broadcast's figures, from `GET /v4/broadcasts/stats` (an item) or
    `GET /v4/broadcasts/<id>/stats` (its `broadcast`): rates are percentages
    of recipients (48.2 means 48.2 %), `progress` too while sending."""

    recipients: int = 0
    open_rate: float = 0.0
    emails_opened: int = 0
    click_rate: float = 0.0
    total_clicks: int = 0
    show_total_clicks: bool = False
    unsubscribe_rate: float = 0.0
    unsubscribes: int = 0
    status: str = ""
    progress: float = 0.0


@dataclass(frozen=True)
class LinkClick(_Record):
    """An item of `GET /v4/broadcasts/<id>/clicks`'s `broadcast.clicks`: the
    rates are fractions (0.006 is 0.6 % of delivered emails), unlike the
    percentages of `BroadcastStats`."""

    url: str = ""
    unique_clicks: int = 0
    click_to_delivery_rate: float = 0.0
    click_to_open_rate: float = 0.0
