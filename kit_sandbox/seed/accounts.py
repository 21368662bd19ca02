"""The demo creators the sandbox starts with.

Everything here is fixed (ids, names, dates) so that tests and screenshots are
repeatable. What the accounts hold (subscribers, tags, forms...) is generated
by ``account_data.py``, handed out fresh so that ``reset()`` can start over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timezone:
    name: str
    #: Kit uses Rails' time zone names, e.g. "Eastern Time (US & Canada)".
    friendly_name: str
    utc_offset: str


@dataclass(frozen=True)
class DemoAccount:
    """One Kit account, with the one user who signs in to it."""

    id: int
    name: str
    plan_type: str
    email: str
    user_id: int
    created_at: str  # UTC ISO 8601, as Kit writes dates
    timezone: Timezone

    def to_api(self) -> dict[str, Any]:
        """The body of ``GET /v4/account`` for this account."""
        return {
            "user": {"email": self.email, "id": self.user_id},
            "account": {
                "id": self.id,
                "name": self.name,
                "plan_type": self.plan_type,
                "primary_email_address": self.email,
                "created_at": self.created_at,
                "timezone": {
                    "name": self.timezone.name,
                    "friendly_name": self.timezone.friendly_name,
                    "utc_offset": self.timezone.utc_offset,
                },
            },
        }


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        id=1001,
        name="Ada's Kitchen",
        plan_type="creator_pro",
        email="ada@example.com",
        user_id=2001,
        created_at="2021-03-14T09:26:53Z",
        timezone=Timezone("America/New_York", "Eastern Time (US & Canada)", "-05:00"),
    ),
    DemoAccount(
        id=1002,
        name="Byte-Sized Notes",
        plan_type="creator",
        email="ben@example.com",
        user_id=2002,
        created_at="2022-11-02T16:04:10Z",
        timezone=Timezone("Europe/London", "London", "+00:00"),
    ),
    DemoAccount(
        id=1003,
        name="Quiet Trails Newsletter",
        plan_type="newsletter",
        email="chloe@example.com",
        user_id=2003,
        created_at="2024-06-21T07:45:00Z",
        timezone=Timezone("Australia/Sydney", "Sydney", "+10:00"),
    ),
)


def seed_accounts() -> dict[int, DemoAccount]:
    """A fresh id -> account map, in display order."""
    return {account.id: account for account in DEMO_ACCOUNTS}
