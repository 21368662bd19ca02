"""Test helpers for Kit's days, which are the account's days: a zone whose date
differs from UTC's right now, moving a sandbox account to it, and the figures
Kit should give for a span of the account's days, counted from the sandbox's
own records (not through the code under test)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kit_sandbox.seed.accounts import Timezone

NEW_YORK = "America/New_York"  # Ada's Kitchen's sending time zone


def zone_apart_from_utc(now: datetime | None = None) -> Timezone:
    """A zone whose date is not UTC's now (and will not be for an hour at
    least): twelve hours behind in the UTC morning, fourteen ahead after."""
    if (now or datetime.now(UTC)).hour < 11:
        return Timezone("Etc/GMT+12", "International Date Line West", "-12:00")
    return Timezone("Pacific/Kiritimati", "Kiritimati", "+14:00")


def move_account(kit: Any, account_id: int, zone: Timezone) -> None:
    """Set the sandbox account's sending time zone (undone by the next reset)."""
    with kit.state.lock:
        account = kit.state.accounts[account_id]
        kit.state.accounts[account_id] = replace(account, timezone=zone)


def local_today(zone_name: str) -> date:
    return datetime.now(ZoneInfo(zone_name)).date()


def day_start(day: date, zone_name: str) -> datetime:
    """The moment the account's day begins, in UTC."""
    return datetime.combine(day, time(), ZoneInfo(zone_name)).astimezone(UTC)


def expected_stats(
    data: Any, zone_name: str, first: date, last: date
) -> dict[str, int]:
    """Kit's growth figures for the account's days `first` to `last`, counted
    from the subscribers themselves: new (every sign-up), cancellations (those
    who cancelled), the total active at the end of `last`."""
    start = day_start(first, zone_name)
    end = day_start(last + timedelta(days=1), zone_name)
    people = list(data.subscribers.values())
    new = sum(start <= s.created_at < end for s in people)
    cancelled = sum(
        s.state == "cancelled" and s.left_at is not None and start <= s.left_at < end
        for s in people
    )
    active = sum(
        s.was_active and s.created_at < end and (s.left_at is None or s.left_at >= end)
        for s in people
    )
    return {
        "subscribers": active,
        "new_subscribers": new,
        "cancellations": cancelled,
        "net_new_subscribers": new - cancelled,
    }
