"""The activity feed: a connection's stored Kit events, newest first, in plain
words. Reads only the app's own database (no call to Kit), no request objects.

Pages are keyset-paginated on (occurred_at, id), the order of the index
`ix_webhook_events_connection_occurred`: the cursor is the last row shown, so
the thousandth page costs what the first does, and events arriving meanwhile
neither repeat nor skip a row. Equal `occurred_at` (a batch of 100 events
often shares a second) are told apart by `id`.

Live updates ask for rows stored after the newest one a page showed, by our
row id: an event Kit retried hours late (an old `occurred_at`) still shows up
as new to the creator, at the top, once.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import func, select, tuple_

from app.extensions import db
from app.models import LegacyWebhook, WebhookEndpoint, WebhookEvent
from app.webhooks import feed_groups
from app.webhooks.feed_groups import Group
from app.webhooks.feed_words import (  # noqa: F401  (EVENTS, FILTERS re-exported)
    EVENTS,
    FILTERS,
    TYPES,
    words,
)
from app.webhooks.legacy import AS_2_0

PAGE_SIZE = 25
NEW_LIMIT = 50  # live updates at most; more than that asks for a reload
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID = 2**63 - 1


class BadQuery(ValueError):
    """A cursor, type or event id in the URL that this app never wrote."""


@dataclass(frozen=True)
class Entry:
    """One line of the feed: `email` (may be "") then `words`; the
    subscriber's id at Kit when the event names one (0 when not)."""

    group: ClassVar[bool] = False
    id: int
    type: str
    email: str
    words: str
    occurred_at: datetime
    subscriber_id: int = 0
    delivery_id: int | None = None
    subject: str = ""


@dataclass(frozen=True)
class FeedPage:
    #: A bulk action's events are one `Group` row (`feed_groups`).
    entries: list[Entry | Group]
    older: str | None  # the cursor of the next (older) page, if any

    @property
    def newest_id(self) -> int:
        """Where live updates start: the newest row this page shows."""
        return max((entry.id for entry in self.entries), default=0)


@dataclass(frozen=True)
class Newer:
    entries: list[Entry | Group]  # newest first, as the page shows them
    newest_id: int  # the next `after`
    more: bool  # more new events than returned: a reload shows them all


@dataclass(frozen=True)
class Today:
    events: int
    new_subscribers: int
    unsubscribes: int


def _entry(row: WebhookEvent) -> Entry:
    return Entry(
        id=row.id,
        type=row.type,
        email=row.subscriber_email,
        words=words(row.type, row.subject, row.subscriber_email),
        occurred_at=row.occurred_at,
        subscriber_id=_subscriber_id(row.data),
        delivery_id=row.delivery_id,
        subject=row.subject,
    )


def _subscriber_id(data: str) -> int:
    """`data.subscriber.id` of the stored event (Kit's JSON), 0 if none."""
    try:
        found: Any = json.loads(data or "{}")
        number = found.get("subscriber", {}).get("id")
    except (ValueError, AttributeError):
        return 0
    if type(number) is int and 0 < number <= MAX_ID:
        return number
    return 0


# --- what the URL may carry --------------------------------------------------------


def event_type(value: str | None) -> str | None:
    """The filter: None for all events, else one of Kit's known types."""
    if not value:
        return None
    if value not in TYPES:
        raise BadQuery("unknown event type")
    return value


def event_id(value: str | None) -> int:
    """`after` for live updates: one of our row ids (0: from the start)."""
    if not value:
        return 0
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise BadQuery("bad event id")
    number = int(value)
    if number > MAX_ID:
        raise BadQuery("bad event id")
    return number


def encode_cursor(occurred_at: datetime, row_id: int) -> str:
    micros = (occurred_at - EPOCH) // timedelta(microseconds=1)
    raw = f"{micros}.{row_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    """The (occurred_at, id) a cursor stands for; BadQuery for anything else."""
    if len(value) > 64 or not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise BadQuery("bad cursor")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        found = re.fullmatch(rb"(-?\d{1,18})\.(\d{1,19})", raw)
        if found is None:
            raise BadQuery("bad cursor")
        row_id = int(found.group(2))
        occurred_at = EPOCH + timedelta(microseconds=int(found.group(1)))
    except (binascii.Error, OverflowError, ValueError) as exc:
        raise BadQuery("bad cursor") from exc
    if row_id > MAX_ID:
        raise BadQuery("bad cursor")
    return occurred_at, row_id


# --- queries -----------------------------------------------------------------------


def page(
    connection_id: int,
    cursor: str | None = None,
    event_type: str | None = None,
    size: int = PAGE_SIZE,
) -> FeedPage:
    """A page of `size` rows of the connection's events, newest first, a bulk
    action's run one row; starting after `cursor` (the `older` of the page
    before). Raises BadQuery for a cursor this app did not write.

    One query in the usual case; more only while the rows read end in a run
    that may go on (a bulk action's events are never split across pages)."""
    after = decode_cursor(cursor) if cursor else None
    found: list[Entry] = []
    limit = size + 1
    while True:
        chunk = _older(connection_id, event_type, after, limit)
        found += [_entry(row) for row in chunk]
        runs = feed_groups.runs(found)
        if len(chunk) < limit:
            shown = list(feed_groups.pieces(runs))
            break
        complete = list(feed_groups.pieces(runs[:-1]))
        if len(complete) > size:
            shown = complete
            break
        after, limit = (chunk[-1].occurred_at, chunk[-1].id), max(limit, 100)
    older = None
    if len(shown) > size:
        last = shown[size - 1][-1]
        older = encode_cursor(last.occurred_at, last.id)
    return FeedPage(feed_groups.rows(shown[:size]), older)


def _older(
    connection_id: int,
    event_type: str | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[WebhookEvent]:
    order = (WebhookEvent.occurred_at, WebhookEvent.id)
    query = select(WebhookEvent).where(WebhookEvent.connection_id == connection_id)
    if event_type is not None:
        query = query.where(WebhookEvent.type == event_type)
    if after is not None:
        # A row value comparison: PostgreSQL and SQLite both walk the index
        # from the cursor down, instead of filtering from the newest row.
        query = query.where(tuple_(*order) < after)
    query = query.order_by(*(column.desc() for column in order)).limit(limit)
    return list(db.session.scalars(query).all())


def newer(
    connection_id: int,
    after: int,
    event_type: str | None = None,
    limit: int = NEW_LIMIT,
) -> Newer:
    """The events stored after row `after` (live updates), newest first."""
    query = select(WebhookEvent).where(
        WebhookEvent.connection_id == connection_id, WebhookEvent.id > after
    )
    if event_type is not None:
        query = query.where(WebhookEvent.type == event_type)
    rows = db.session.scalars(
        query.order_by(WebhookEvent.id.desc()).limit(limit + 1)
    ).all()
    shown = sorted(rows[:limit], key=lambda r: (r.occurred_at, r.id), reverse=True)
    return Newer(
        feed_groups.rows(feed_groups.runs(map(_entry, shown))),
        max((row.id for row in shown), default=after),
        len(rows) > limit,
    )


def today(connection_id: int, midnight: datetime) -> Today:
    """The events Kit delivered since `midnight` (the start of the account's
    day, in its time zone: the dashboard's `AccountZone.start_of`), by kind:
    one query on the index. Only what reached this connection: Kit's own
    count of the day is its growth stats."""
    rows = db.session.execute(
        select(WebhookEvent.type, func.count())
        .where(
            WebhookEvent.connection_id == connection_id,
            WebhookEvent.occurred_at >= midnight,
        )
        .group_by(WebhookEvent.type)
    )
    counts: dict[str, int] = {kind: count for kind, count in rows}
    return Today(
        events=sum(counts.values()),
        new_subscribers=counts.get("subscriber.created", 0),
        unsubscribes=counts.get("subscriber.unsubscribed", 0),
    )


def source(connection_id: int) -> str:
    """Whether events reach this connection, for the page's notes:
    `live`, `connecting` (not registered at Kit yet, or being repaired),
    `unavailable` (Kit has no webhooks for the account), `legacy` (no
    Webhooks 2.0, but some subscriber events through the legacy webhooks:
    `app.webhooks.legacy`) or `stopped`."""
    status = db.session.scalar(
        select(WebhookEndpoint.status).where(
            WebhookEndpoint.connection_id == connection_id
        )
    )
    if status == WebhookEndpoint.ACTIVE:
        return "live"
    if status == WebhookEndpoint.UNAVAILABLE:
        fallback = db.session.scalar(
            select(LegacyWebhook.id).where(
                LegacyWebhook.connection_id == connection_id,
                LegacyWebhook.event.in_(AS_2_0),
                LegacyWebhook.status == LegacyWebhook.ACTIVE,
            )
        )
        return "unavailable" if fallback is None else "legacy"
    if status in (None, WebhookEndpoint.PENDING, WebhookEndpoint.FAILED):
        return "connecting"
    return "stopped"
