"""Times as Kit writes them: ISO 8601 (`2023-07-17T16:48:20Z`); and the
account's time zone, whose days Kit counts in (`AccountZone`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo


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


@dataclass(frozen=True)
class AccountZone:
    """The time zone a Kit account counts its days in, its sending time zone
    (`account.timezone` of `GET /v4/account`): Kit's growth figures are per day
    of this zone, so "today", a finished day and every time a creator reads
    are in it too. A zone Kit did not give, or that this machine does not
    know, is UTC, and says so."""

    name: str = "UTC"  # IANA, e.g. "America/New_York"
    label: str = "UTC"  # as Kit names it to the creator: "Eastern Time (US & Canada)"

    @classmethod
    def of(cls, name: str | None, label: str | None = None) -> AccountZone:
        if not name or _tzinfo(name) is None:
            return cls()
        return cls(name, label or name)

    @property
    def tzinfo(self) -> tzinfo:
        return _tzinfo(self.name) or UTC

    def local(self, moment: datetime) -> datetime:
        """The moment as the account's clock reads it."""
        return moment.astimezone(self.tzinfo)

    def today(self, now: datetime | None = None) -> date:
        """The account's day now: the one Kit's figures still count into."""
        return self.local(now or datetime.now(UTC)).date()

    def start_of(self, day: date) -> datetime:
        """When the account's day begins, in UTC."""
        return datetime.combine(day, time(), self.tzinfo).astimezone(UTC)

    def shown(self, moment: datetime, day_only: bool = False) -> str:
        """The one way a time reads to a creator: "6 Dec 2026, 17:58" on the
        account's clock ("6 Dec 2026" for the day alone)."""
        return shown_day(self.local(moment).date()) + (
            "" if day_only else f", {self.local(moment):%H:%M}"
        )


def shown_day(day: date) -> str:
    """A day as every page writes it: "6 Dec 2026"."""
    return f"{day.day} {day:%b %Y}"


@lru_cache(maxsize=64)
def _tzinfo(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # unknown zone, or not a name at all
        return None
