"""The demo accounts' audiences: subscribers, tags, forms, sequences, broadcasts.

Drawn from ``random.Random`` with a fixed seed per account, so ids, names and
numbers are the same on every run. Dates are offsets from the moment of
seeding (``now``), so "the last 30 days" always has data, including a bump of
new subscribers that a growth chart shows.

- Ada's Kitchen (1001): 2,600 subscribers (2,000 active, 300 cancelled, 150
  inactive, 100 bounced, 50 complained) over two years, 4 custom fields
  (last name always set, the others on some), 10 tags from 1,400 subscribers
  down to 0 ("Masterclass Waitlist"), 5 forms (2 archived), 4 sequences, 25
  broadcasts (19 completed and 1 aborted, every 6 days up to 2 days ago; 1
  sending, 2 scheduled, 2 drafts).
- Byte-Sized Notes (1002): 40 subscribers, 2 custom fields, 3 tags, 1 form,
  1 sequence, 3 broadcasts.
- Quiet Trails Newsletter (1003): nothing at all, for empty states.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from ..audience import AccountData, IdSequence
from ..records import (
    CustomFieldRecord,
    FormRecord,
    SequenceRecord,
    SubscriberRecord,
    TagRecord,
)
from .accounts import DEMO_ACCOUNTS
from .broadcasts import add_broadcasts
from .members import add_members
from .words import (
    ADA_FORMS,
    ADA_SEQUENCES,
    ADA_SUBJECTS,
    ADA_TAGS,
    BEN_SUBJECTS,
    BEN_TAGS,
    CITIES,
    COMPANIES,
    COOKING_LEVELS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    PURCHASES,
    ROLES,
)

ADA, BEN, CHLOE = 1001, 1002, 1003
ADA_STATES = {
    "active": 2000,
    "cancelled": 300,
    "inactive": 150,
    "bounced": 100,
    "complained": 50,
}
BEN_STATES = {
    "active": 32,
    "cancelled": 4,
    "inactive": 2,
    "bounced": 1,
    "complained": 1,
}
DAY = 86_400  # seconds


def seed_account_data(now: datetime, ids: IdSequence) -> dict[int, AccountData]:
    """Fresh data for every demo account, dated relative to ``now`` (UTC).

    ``ids`` hands out the ids, here and for every record created later.
    """
    now = now.replace(microsecond=0)
    emails: set[str] = set()
    data = {account.id: AccountData(account.id, ids) for account in DEMO_ACCOUNTS}
    _seed_ada(data[ADA], now, emails)
    _seed_ben(data[BEN], now, emails)
    return data  # Quiet Trails (1003) stays empty on purpose.


def _seed_ada(data: AccountData, now: datetime, emails: set[str]) -> None:
    # Demo data, not secrets: a seeded PRNG is the point (repeatable runs).
    rng = random.Random(ADA)  # noqa: S311
    for key, label in (
        ("last_name", "Last name"),
        ("city", "City"),
        ("cooking_level", "Cooking level"),
        ("last_purchase", "Last purchase"),
    ):
        data.custom_fields.append(
            CustomFieldRecord(data.ids.next("custom_field"), key, label)
        )
    _add_subscribers(data, rng, now, emails, ADA_STATES, span_days=730, bump=0.12)
    _add_tags(data, rng, now, ADA_TAGS, span_days=700)
    for days_ago, form in zip((690, 540, 420, 300, 200), ADA_FORMS, strict=True):
        _add_form(data, rng, now - timedelta(days=days_ago), *form)
    for days_ago, (name, hold, repeat) in zip(
        (700, 520, 160, 90), ADA_SEQUENCES, strict=True
    ):
        data.sequences.append(
            SequenceRecord(
                data.ids.next("sequence"),
                name,
                hold,
                repeat,
                now - timedelta(days=days_ago),
            )
        )
    # Oldest first, so ids follow creation dates: 19 completed weekly sends
    # and 1 aborted, then one sending now, 2 scheduled and 2 drafts.
    statuses = ["completed"] * 20 + ["sending", "scheduled", "scheduled"]
    statuses += ["draft", "draft"]
    statuses[9] = "aborted"
    add_broadcasts(data, rng, now, "ada@example.com", ADA_SUBJECTS, statuses)
    add_members(data, now)


def _seed_ben(data: AccountData, now: datetime, emails: set[str]) -> None:
    rng = random.Random(BEN)  # noqa: S311
    for key, label in (("company", "Company"), ("role", "Role")):
        data.custom_fields.append(
            CustomFieldRecord(data.ids.next("custom_field"), key, label)
        )
    _add_subscribers(data, rng, now, emails, BEN_STATES, span_days=400, bump=0.1)
    _add_tags(data, rng, now, BEN_TAGS, span_days=380)
    _add_form(
        data, rng, now - timedelta(days=390), "Subscribe", "embed", "inline", False
    )
    data.sequences.append(
        SequenceRecord(
            data.ids.next("sequence"),
            "Welcome aboard",
            False,
            False,
            now - timedelta(days=390),
        )
    )
    statuses = ["completed", "completed", "draft"]
    add_broadcasts(data, rng, now, "ben@example.com", BEN_SUBJECTS, statuses)
    add_members(data, now)


def _add_subscribers(
    data: AccountData,
    rng: random.Random,
    now: datetime,
    emails: set[str],
    states: dict[str, int],
    *,
    span_days: int,
    bump: float,
) -> None:
    """Subscribers created over ``span_days``, denser lately, ids by age.

    A ``bump`` share of them signed up in the last 30 days; the rest grow
    steadily, more of them recent than old.
    """
    drawn: list[tuple[int, str]] = []
    for state, count in states.items():
        for _ in range(count):
            if rng.random() < bump:
                # A launch 12 days ago: sign-ups peak, then taper off.
                offset = rng.triangular(60, 30 * DAY, 12 * DAY)
            else:
                offset = rng.triangular(60, span_days * DAY, 60)
            drawn.append((int(offset), state))
    drawn.sort(reverse=True)  # oldest (largest offset) first
    for offset, state in drawn:
        created_at = now - timedelta(seconds=offset)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        left_at = None
        if state in ("cancelled", "bounced", "complained"):
            # Left some time between signing up and now.
            left_at = created_at + timedelta(seconds=int(offset * rng.uniform(0.02, 1)))
        data.add_subscriber(
            SubscriberRecord(
                id=data.ids.next("subscriber"),
                # About one in twenty signs up without giving a name.
                first_name=first if rng.random() > 0.05 else None,
                email_address=_unique_email(rng, emails, first, last),
                state=state,
                created_at=created_at,
                fields=_fields(rng, data.custom_fields, last),
                left_at=left_at,
            )
        )


def _unique_email(rng: random.Random, used: set[str], first: str, last: str) -> str:
    local = f"{_SLUGS[first]}.{_SLUGS[last]}"
    while True:
        email = f"{local}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}"
        if email not in used:
            used.add(email)
            return email


#: "O'Connor" -> "oconnor": the local part of a plausible address.
_SLUGS = {
    name: re.sub(r"[^a-z]", "", name.lower()) for name in FIRST_NAMES + LAST_NAMES
}


#: Custom field key -> (how often it is set, the values it takes).
_FIELD_VALUES: dict[str, tuple[float, tuple[str, ...]]] = {
    "city": (0.7, CITIES),
    "cooking_level": (0.55, COOKING_LEVELS),
    "last_purchase": (0.3, PURCHASES),
    "company": (0.75, COMPANIES),
    "role": (0.65, ROLES),
}


def _fields(
    rng: random.Random, custom_fields: list[CustomFieldRecord], last: str
) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for custom in custom_fields:
        if custom.key == "last_name":
            values[custom.key] = last
            continue
        share, choices = _FIELD_VALUES.get(custom.key, (0.0, ()))
        values[custom.key] = rng.choice(choices) if rng.random() < share else None
    return values


def _add_tags(
    data: AccountData,
    rng: random.Random,
    now: datetime,
    names: tuple[tuple[str, int], ...],
    *,
    span_days: int,
) -> None:
    """Each (name, size) tag on ``size`` subscribers drawn at random."""
    subscribers = list(data.subscribers.values())
    for index, (name, size) in enumerate(names):
        # Tags were made over time, the first ones longest ago.
        created_at = now - timedelta(days=span_days * (len(names) - index) / len(names))
        tag = TagRecord(data.ids.next("tag"), name, created_at.replace(microsecond=0))
        data.add_tag(tag)
        for subscriber in rng.sample(subscribers, min(size, len(subscribers))):
            since = max(subscriber.created_at, tag.created_at)
            # Tagged soon after signing up (or after the tag was made).
            delay = (now - since).total_seconds() * rng.uniform(0, 0.3)
            tagged_at = since + timedelta(seconds=int(delay))
            data.taggings[tag.id][subscriber.id] = tagged_at


def _add_form(
    data: AccountData,
    rng: random.Random,
    created_at: datetime,
    name: str,
    kind: str,
    layout: str | None,
    archived: bool,
) -> None:
    account = next(a for a in DEMO_ACCOUNTS if a.id == data.account_id)
    host = re.sub(r"[^a-z0-9]+", "-", account.name.lower().replace("'", "")).strip("-")
    data.forms.append(
        FormRecord(
            id=data.ids.next("form"),
            name=name,
            created_at=created_at,
            type=kind,
            format=layout,
            uid=f"{rng.getrandbits(40):010x}",
            archived=archived,
            host=f"{host}.kit.example",
        )
    )
