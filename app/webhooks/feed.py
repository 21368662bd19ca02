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
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, tuple_

from app.extensions import db
from app.models import WebhookEndpoint, WebhookEvent

PAGE_SIZE = 25
NEW_LIMIT = 50  # live updates at most; more than that asks for a reload
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID = 2**63 - 1

# Kit's event types (KIT_PLATFORM.md 5a). Events about a subscriber read after
# their email ("ada@example.com joined"): the filter's label, then the words
# with the related form/tag/sequence name, then without one.
SUBSCRIBER_EVENTS: dict[str, tuple[str, str, str]] = {
    "subscriber.created": ("New subscribers", "joined", "joined"),
    "subscriber.activated": (
        "Confirmed",
        "confirmed their subscription",
        "confirmed their subscription",
    ),
    "subscriber.unsubscribed": ("Unsubscribed", "unsubscribed", "unsubscribed"),
    "subscriber.bounced": ("Bounced", "bounced", "bounced"),
    "subscriber.complained": (
        "Spam complaints",
        "marked your email as spam",
        "marked your email as spam",
    ),
    "subscriber.subscribed_to_form": (
        "Form subscriptions",
        "subscribed through form «{}»",
        "subscribed through a form",
    ),
    "subscriber.added_to_sequence": (
        "Added to a sequence",
        "was added to sequence «{}»",
        "was added to a sequence",
    ),
    "subscriber.sequence_completed": (
        "Sequence completed",
        "completed sequence «{}»",
        "completed a sequence",
    ),
    "subscriber.tag_added": ("Tagged", "was tagged «{}»", "was tagged"),
    "subscriber.tag_removed": ("Untagged", "was untagged «{}»", "was untagged"),
}
# The events the app subscribes to at Kit (tasks.py registers them): the
# subscriber events above, the ones the feed has words for.
EVENTS = tuple(SUBSCRIBER_EVENTS)
# The others are sentences of their own: "Tag «Buyers» was created".
OTHER_EVENTS = [
    f"{thing}.{action}"
    for thing, actions in [
        ("tag", ["created", "deleted"]),
        ("sequence", ["created", "deleted", "published", "disabled"]),
        ("broadcast", ["created", "sent", "deleted"]),
        ("post", ["published"]),
        ("custom_field", ["created", "deleted"]),
    ]
    for action in actions
]


def _sentences(event_type: str) -> tuple[str, str, str]:
    thing, action = event_type.split(".")
    noun = thing.replace("_", " ")
    return (
        f"{noun.capitalize()} {action}",
        f"{noun.capitalize()} «{{}}» was {action}",
        f"A {noun} was {action}",
    )


TYPES = SUBSCRIBER_EVENTS | {name: _sentences(name) for name in OTHER_EVENTS}
FILTERS = [(name, label) for name, (label, _, _) in TYPES.items()]


class BadQuery(ValueError):
    """A cursor, type or event id in the URL that this app never wrote."""


@dataclass(frozen=True)
class Entry:
    """One line of the feed: `email` (may be "") then `words`."""

    id: int
    type: str
    email: str
    words: str
    occurred_at: datetime


@dataclass(frozen=True)
class FeedPage:
    entries: list[Entry]
    older: str | None  # the cursor of the next (older) page, if any

    @property
    def newest_id(self) -> int:
        """Where live updates start: the newest row this page shows."""
        return max((entry.id for entry in self.entries), default=0)


@dataclass(frozen=True)
class Newer:
    entries: list[Entry]  # newest first, as the page shows them
    newest_id: int  # the next `after`
    more: bool  # more new events than returned: a reload shows them all


@dataclass(frozen=True)
class Today:
    events: int
    new_subscribers: int
    unsubscribes: int


# --- words -------------------------------------------------------------------------


def words(event_type: str, subject: str, email: str = "") -> str:
    """The event in plain words, after the subscriber's email when there is one."""
    known = TYPES.get(event_type)
    if known is None:
        # A type Kit added after this code was written: say what it is called.
        name = f"“{event_type}”"
        return f"had an event Kit calls {name}" if email else f"Kit sent {name}"
    _, with_subject, without = known
    return with_subject.format(subject) if subject else without


def _entry(row: WebhookEvent) -> Entry:
    return Entry(
        id=row.id,
        type=row.type,
        email=row.subscriber_email,
        words=words(row.type, row.subject, row.subscriber_email),
        occurred_at=row.occurred_at,
    )


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
    """A page of the connection's events, newest first, starting after
    `cursor` (the `older` of the page before). Raises BadQuery for a cursor
    this app did not write."""
    order = (WebhookEvent.occurred_at, WebhookEvent.id)
    query = select(WebhookEvent).where(WebhookEvent.connection_id == connection_id)
    if event_type is not None:
        query = query.where(WebhookEvent.type == event_type)
    if cursor:
        # A row value comparison: PostgreSQL and SQLite both walk the index
        # from the cursor down, instead of filtering from the newest row.
        query = query.where(tuple_(*order) < decode_cursor(cursor))
    query = query.order_by(*(column.desc() for column in order)).limit(size + 1)
    rows = db.session.scalars(query).all()
    shown = rows[:size]
    older = None
    if len(rows) > size:
        older = encode_cursor(shown[-1].occurred_at, shown[-1].id)
    return FeedPage([_entry(row) for row in shown], older)


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
        [_entry(row) for row in shown],
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
    `unavailable` (Kit has no webhooks for the account) or `stopped`."""
    status = db.session.scalar(
        select(WebhookEndpoint.status).where(
            WebhookEndpoint.connection_id == connection_id
        )
    )
    if status == WebhookEndpoint.ACTIVE:
        return "live"
    if status == WebhookEndpoint.UNAVAILABLE:
        return "unavailable"
    if status in (None, WebhookEndpoint.PENDING, WebhookEndpoint.FAILED):
        return "connecting"
    return "stopped"
