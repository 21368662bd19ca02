"""One Kit account's data (``AccountData``) and the rules for changing it.

Callers hold ``state.lock`` around every call: the sandbox serves requests on
many threads, and listing a dict while another request adds to it would fail.
Nothing here touches ``request``; views parse HTTP and call these methods.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from .records import (
    BroadcastRecord,
    CustomFieldRecord,
    FormRecord,
    SequenceRecord,
    SubscriberRecord,
    TagRecord,
    iso,
)

#: Where each kind of id starts: Kit's ids are integers, and distinct ranges
#: make a mixed-up id (a tag id sent as a subscriber id) fail visibly.
ID_STARTS = {
    "subscriber": 1_840_001,
    "tag": 5_001,
    "custom_field": 801,
    "form": 7_101,
    "sequence": 3_301,
    "broadcast": 9_001,
    "publication": 12_001,
}

EMAIL_STATS_DAYS = 90  # Kit's "last_90" email_stats_mode


class IdSequence:
    """Ids per kind of record, shared by every account, always increasing.

    New records get ids above all existing ones, which is what keeps "newest
    first" lists and id-based cursors right after a write.
    """

    def __init__(self) -> None:
        self._next = dict(ID_STARTS)

    def next(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value


#: Kit's days are the account's, and every time zone's midnight falls on a
#: quarter hour of UTC: counts kept per quarter hour add up to any zone's days.
SLOT = timedelta(minutes=15)


def slot(moment: datetime) -> datetime:
    """The quarter hour (UTC) a moment falls in."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0)


def day_bounds(starting: date, ending: date, zone: str) -> tuple[datetime, datetime]:
    """From the start of ``starting`` to the end of ``ending`` in the account's
    zone, in UTC (a zone the sandbox does not know counts as UTC)."""
    tz = zone_of(zone)
    return (
        datetime.combine(starting, time(), tz).astimezone(UTC),
        datetime.combine(ending + timedelta(days=1), time(), tz).astimezone(UTC),
    )


def zone_of(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not a zone, or not a name at all
        return UTC


@dataclass
class GrowthLedger:
    """Subscriber counts per quarter hour, so growth stats never scan
    subscribers, and add up to whole days in the account's time zone, as Kit
    counts them (KIT_PLATFORM.md section 5).

    The app asks for a 30-day chart one day at a time, in parallel; summing a
    few thousand counters per request keeps that fast.
    """

    created: Counter[datetime] = field(default_factory=Counter)
    cancelled: Counter[datetime] = field(default_factory=Counter)
    #: When subscribers became active, and stopped being active.
    joined: Counter[datetime] = field(default_factory=Counter)
    left: Counter[datetime] = field(default_factory=Counter)

    def add(self, subscriber: SubscriberRecord) -> None:
        self.created[slot(subscriber.created_at)] += 1
        if subscriber.was_active:
            self.joined[slot(subscriber.created_at)] += 1
        if subscriber.left_at is not None:
            self.left[slot(subscriber.left_at)] += 1
            if subscriber.state == "cancelled":
                self.cancelled[slot(subscriber.left_at)] += 1

    def active_before(self, moment: datetime) -> int:
        """Active subscribers just before ``moment`` (a quarter hour's start)."""
        joined = sum(n for at, n in self.joined.items() if at < moment)
        return joined - sum(n for at, n in self.left.items() if at < moment)

    def stats(self, starting: date, ending: date, zone: str) -> dict[str, int]:
        """Kit's growth stats for the account's days ``starting`` to
        ``ending``, in its time zone ``zone`` (an IANA name)."""
        start, end = day_bounds(starting, ending, zone)

        def in_range(counts: Counter[datetime]) -> int:
            return sum(n for at, n in counts.items() if start <= at < end)

        new, cancellations = in_range(self.created), in_range(self.cancelled)
        return {
            "cancellations": cancellations,
            "net_new_subscribers": new - cancellations,
            "new_subscribers": new,
            "subscribers": self.active_before(end),
        }


@dataclass
class AccountData:
    """Everything one account holds; ``to_api()`` lives on the records."""

    account_id: int
    ids: IdSequence
    custom_fields: list[CustomFieldRecord] = field(default_factory=list)
    #: By id; ids only grow, so insertion order is oldest first.
    subscribers: dict[int, SubscriberRecord] = field(default_factory=dict)
    tags: dict[int, TagRecord] = field(default_factory=dict)
    #: tag id -> subscriber id -> when the tag was added.
    taggings: dict[int, dict[int, datetime]] = field(default_factory=dict)
    forms: list[FormRecord] = field(default_factory=list)
    sequences: list[SequenceRecord] = field(default_factory=list)
    broadcasts: dict[int, BroadcastRecord] = field(default_factory=dict)
    #: form id / sequence id -> subscriber id -> when they were added to it.
    form_subscribers: dict[int, dict[int, datetime]] = field(default_factory=dict)
    sequence_subscribers: dict[int, dict[int, datetime]] = field(default_factory=dict)
    growth: GrowthLedger = field(default_factory=GrowthLedger)
    _by_email: dict[str, SubscriberRecord] = field(default_factory=dict)
    _tags_by_name: dict[str, TagRecord] = field(default_factory=dict)

    def __setstate__(self, saved: dict[str, object]) -> None:
        # A state file saved before forms and sequences had subscribers still
        # loads (they start empty) rather than failing on a missing attribute.
        self.__dict__.update(saved)
        self.__dict__.setdefault("form_subscribers", {})
        self.__dict__.setdefault("sequence_subscribers", {})

    # -- subscribers ----------------------------------------------------------

    def add_subscriber(self, subscriber: SubscriberRecord) -> None:
        self.subscribers[subscriber.id] = subscriber
        self._by_email[subscriber.email_address.lower()] = subscriber
        self.growth.add(subscriber)

    def subscriber_by_email(self, email: str) -> SubscriberRecord | None:
        return self._by_email.get(email.strip().lower())

    def upsert_subscriber(
        self, email: str, first_name: str | None, now: datetime
    ) -> tuple[SubscriberRecord, bool]:
        """Kit's ``POST /v4/subscribers``: (subscriber, created?).

        An existing subscriber gets the new first name, if one is sent, and
        keeps its state: the sandbox does not model re-subscribing.
        """
        existing = self.subscriber_by_email(email)
        if existing is not None:
            if first_name is not None:
                existing.first_name = first_name
            return existing, False
        subscriber = SubscriberRecord(
            id=self.ids.next("subscriber"),
            first_name=first_name,
            # Kit keeps an address in lower case, whatever was typed.
            email_address=email.strip().lower(),
            state="active",
            created_at=now,
            fields={custom.key: None for custom in self.custom_fields},
        )
        self.add_subscriber(subscriber)
        return subscriber, True

    def change_state(
        self, subscriber: SubscriberRecord, state: str, now: datetime
    ) -> None:
        """A subscriber confirms (inactive -> active) or stops being active
        (cancelled, bounced, complained); the growth ledger counts it now."""
        day = slot(now)
        if state == "active" and subscriber.state != "active":
            self.growth.joined[day] += 1
            subscriber.left_at = None
        elif state != "active" and subscriber.state == "active":
            self.growth.left[day] += 1
            if state == "cancelled":
                self.growth.cancelled[day] += 1
            subscriber.left_at = now
        subscriber.state = state

    def find_subscribers(
        self,
        status: str,
        email: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> list[SubscriberRecord]:
        """The filters of ``GET /v4/subscribers``; ``status="all"`` for any."""
        if email is not None:
            found = self.subscriber_by_email(email)
            candidates = [found] if found else []
        else:
            candidates = list(self.subscribers.values())
        return [
            subscriber
            for subscriber in candidates
            if (status == "all" or subscriber.state == status)
            and (created_after is None or subscriber.created_at >= created_after)
            and (created_before is None or subscriber.created_at <= created_before)
        ]

    # -- tags -----------------------------------------------------------------

    def add_tag(self, tag: TagRecord) -> None:
        self.tags[tag.id] = tag
        self.taggings.setdefault(tag.id, {})
        self._tags_by_name[tag.name.casefold()] = tag

    def find_or_create_tag(self, name: str, now: datetime) -> tuple[TagRecord, bool]:
        """Kit's ``POST /v4/tags``: names match case-insensitively."""
        existing = self._tags_by_name.get(name.casefold())
        if existing is not None:
            return existing, False
        tag = TagRecord(id=self.ids.next("tag"), name=name, created_at=now)
        self.add_tag(tag)
        return tag, True

    def tag_subscriber(
        self, tag: TagRecord, subscriber: SubscriberRecord, now: datetime
    ) -> tuple[datetime, bool]:
        """(tagged_at, newly tagged?); tagging twice keeps the first date."""
        tagged = self.taggings.setdefault(tag.id, {})
        if subscriber.id in tagged:
            return tagged[subscriber.id], False
        tagged[subscriber.id] = now
        return now, True

    def untag_subscriber(self, tag: TagRecord, subscriber: SubscriberRecord) -> bool:
        """Remove the tag; False if the subscriber did not have it."""
        return self.taggings.get(tag.id, {}).pop(subscriber.id, None) is not None

    def subscriber_tags(
        self, subscriber: SubscriberRecord
    ) -> list[tuple[TagRecord, datetime]]:
        """The subscriber's tags, with when each was added."""
        return [
            (self.tags[tag_id], tagged[subscriber.id])
            for tag_id, tagged in self.taggings.items()
            if subscriber.id in tagged and tag_id in self.tags
        ]

    def tagged_subscribers(
        self, tag: TagRecord, status: str
    ) -> list[tuple[SubscriberRecord, datetime]]:
        return [
            (self.subscribers[subscriber_id], tagged_at)
            for subscriber_id, tagged_at in self.taggings.get(tag.id, {}).items()
            if status == "all" or self.subscribers[subscriber_id].state == status
        ]

    # -- forms and sequences --------------------------------------------------

    def members(
        self, added: dict[int, datetime], status: str
    ) -> list[tuple[SubscriberRecord, datetime]]:
        """A form's or sequence's subscribers in ``status`` ("all" for any),
        with when each was added (``form_subscribers[id]`` and the like)."""
        return [
            (self.subscribers[subscriber_id], added_at)
            for subscriber_id, added_at in added.items()
            if subscriber_id in self.subscribers
            and (status == "all" or self.subscribers[subscriber_id].state == status)
        ]

    # -- stats ----------------------------------------------------------------

    def email_stats(self, now: datetime) -> dict[str, object]:
        """Totals over the broadcasts sent in Kit's "last 90 days" window."""
        starting = now - timedelta(days=EMAIL_STATS_DAYS)
        sent = [
            broadcast.stats
            for broadcast in self.broadcasts.values()
            if broadcast.send_at is not None
            and starting <= broadcast.send_at <= now
            and broadcast.status in ("completed", "sending", "aborted")
        ]
        return {
            # A send still under way (or stopped) has reached only part of
            # its recipients.
            "sent": sum(round(s.recipients * s.progress / 100) for s in sent),
            "clicked": sum(stats.emails_clicked for stats in sent),
            "opened": sum(stats.emails_opened for stats in sent),
            "email_stats_mode": "last_90",
            "open_tracking_enabled": True,
            "click_tracking_enabled": True,
            "starting": iso(starting),
            "ending": iso(now),
        }
