"""The overview's period (7, 30 or 90 days) and what it shows about it: the
key figures with their change against the previous period of the same
length, and the latest sent broadcasts with their rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.kit.resources import Broadcast, BroadcastStats, GrowthStats
from app.stored_days import GROWTH_DAYS, window

PERIODS = (7, 30, GROWTH_DAYS)  # the longest is all the stored days
DEFAULT_PERIOD = 30


def period_days(value: str | None) -> int:
    """`?period=` as a number of days: one of PERIODS, anything else the
    default (a hand-edited URL is not an error: the page says which it shows)."""
    return int(value) if value in {str(days) for days in PERIODS} else DEFAULT_PERIOD


def previous_days(today: date, length: int) -> list[date]:
    """The period of `length` days before the one that ends today."""
    return window(today - timedelta(days=length), length)


@dataclass(frozen=True)
class Delta:
    """A figure's change against the previous period, in words and classes.
    `change` is None when Kit has nothing for the previous period."""

    change: int | None
    days: int
    up_is_good: bool = True
    #: A count at a moment (the subscriber total), not a sum over days: its
    #: change is how it moved over the period itself.
    level: bool = False

    @property
    def direction(self) -> str:
        if not self.change:
            return "flat"
        return "up" if self.change > 0 else "down"

    @property
    def verdict(self) -> str:
        """ "better" / "worse" (said in words, not only in colour), or ""."""
        if not self.change:
            return ""
        return "better" if (self.change > 0) == self.up_is_good else "worse"

    @property
    def text(self) -> str:
        if self.change is None:
            return "no earlier data"
        against = (
            f"over these {self.days} days"
            if self.level
            else f"vs previous {self.days} days"
        )
        if self.change == 0:
            return f"no change {against}"
        return f"{self.change:+,} {against}"


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    delta: Delta


def kpis(current: GrowthStats, previous: GrowthStats | None, days: int) -> list[Kpi]:
    """Subscribers at the end, new, cancellations and net growth of the
    period, each against the previous period (None or all zeros: no data)."""
    earlier = previous if previous is not None and any(_figures(previous)) else None

    def delta(name: str, up_is_good: bool = True, level: bool = False) -> Delta:
        if earlier is None:
            return Delta(None, days, level=level)
        change = getattr(current, name) - getattr(earlier, name)
        return Delta(change, days, up_is_good, level)

    return [
        # The total at the period's end against the total at the previous
        # period's end: how it moved over these days.
        Kpi(
            "Subscribers",
            f"{current.subscribers:,}",
            delta("subscribers", level=True),
        ),
        Kpi("New", f"{current.new_subscribers:,}", delta("new_subscribers")),
        Kpi(
            "Cancellations",
            f"{current.cancellations:,}",
            delta("cancellations", up_is_good=False),
        ),
        Kpi(
            "Net growth",
            _signed(current.net_new_subscribers),
            delta("net_new_subscribers"),
        ),
    ]


def figures_note(
    current: GrowthStats, previous: GrowthStats | None, days: int
) -> str | None:
    """Why the total's change and net growth differ, in words, when they do.

    Both are Kit's, for the same days: net growth is Kit's new subscribers
    less its cancellations (unsubscribes), while the total counts who is
    active at the end. A bounce or a spam complaint takes an address out of
    the total without being a cancellation, and a sign-up still unconfirmed
    is new without being in the total; so the two can differ, and neither is
    wrong. None when they agree, or when the previous period is unknown."""
    if previous is None or not any(_figures(previous)):
        return None
    change = current.subscribers - previous.subscribers
    net = current.net_new_subscribers
    if change == net:
        return None
    return (
        f"The total moved by {change:+,} over these {days} days, while net growth "
        f"is {net:+,}. Net growth is new subscribers minus unsubscribes. The "
        "total also drops when an address bounces or is reported as spam, and "
        "leaves out unconfirmed sign-ups, which count as new."
    )


def _signed(value: int) -> str:
    """+12, -3, and 0 (not "+0")."""
    return f"{value:+,}" if value else "0"


def _figures(stats: GrowthStats) -> tuple[int, ...]:
    return (
        stats.subscribers,
        stats.new_subscribers,
        stats.cancellations,
        stats.net_new_subscribers,
    )


def totals(daily: list[GrowthStats]) -> GrowthStats:
    """A period's totals from its days: sums of the flows, and the last day's
    closing count of subscribers."""
    return GrowthStats(
        subscribers=daily[-1].subscribers if daily else 0,
        new_subscribers=sum(stats.new_subscribers for stats in daily),
        cancellations=sum(stats.cancellations for stats in daily),
        net_new_subscribers=sum(stats.net_new_subscribers for stats in daily),
    )


@dataclass(frozen=True)
class SentBroadcast:
    """An item of `GET /v4/broadcasts/stats?status=completed`: what it was and
    how it did (rates are percentages of recipients)."""

    broadcast: Broadcast
    stats: BroadcastStats

    @classmethod
    def from_kit(cls, item: Any) -> SentBroadcast:
        return cls(Broadcast.from_kit(item), BroadcastStats.from_kit(item))

    @property
    def sent_at(self) -> datetime | None:
        return self.broadcast.send_at or self.broadcast.published_at


def newest_sent_first(items: list[SentBroadcast]) -> list[SentBroadcast]:
    """Kit lists broadcasts newest created first; a creator reads them by
    when they went out (one without a date last)."""
    return sorted(
        items,
        key=lambda item: (item.sent_at is not None, item.sent_at or datetime.min),
        reverse=True,
    )
