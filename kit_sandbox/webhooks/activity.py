"""Make activity happen in an account: real changes to its data, and the
Webhooks 2.0 events Kit would send for them.

* ``burst``: a few of everything a creator's feed shows: new subscribers (one
  through a form, one into a sequence), a confirmation, tags added and removed,
  unsubscribes, a bounce and a complaint;
* ``batch``: one bulk action, 100 subscribers tagged at once: exactly 100
  ``subscriber.tag_added`` events, in one delivery.

Choices come from a ``random.Random`` seeded with the account and the run
number, so the same clicks after a reset make the same changes. The seeded
data is never touched until someone asks for activity. Callers hold the
state's lock.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from datetime import datetime
from typing import Any

from ..audience import AccountData
from ..records import SubscriberRecord, TagRecord
from ..seed.words import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES
from .events import MAX_EVENTS_PER_DELIVERY
from .hub import WebhookHub

KINDS = ("burst", "batch")
NEW_SUBSCRIBERS = 3
UNSUBSCRIBES = 2
#: The tag an account without tags gets, so that tags can be added.
FIRST_TAG = "Activity"


class _Activity:
    """One run: the account's data, where events go, and what was emitted."""

    def __init__(
        self, data: AccountData, hub: WebhookHub, run: int, now: datetime
    ) -> None:
        self.data = data
        self.hub = hub
        self.now = now
        self.rng = random.Random(f"{data.account_id}-{run}")  # noqa: S311 (demo data)
        self.emitted: Counter[str] = Counter()

    def emit(self, event_type: str, **data: dict[str, Any]) -> None:
        self.hub.emit(self.data.account_id, event_type, data, self.now)
        self.emitted[event_type] += 1

    def new_subscriber(self) -> SubscriberRecord:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        while True:
            local = f"{_slug(first)}.{_slug(last)}{self.rng.randint(1000, 99999)}"
            email = f"{local}@{self.rng.choice(EMAIL_DOMAINS)}"
            if self.data.subscriber_by_email(email) is None:
                break
        subscriber, _ = self.data.upsert_subscriber(email, first, self.now)
        self.emit("subscriber.created", subscriber=subscriber.to_api())
        return subscriber

    def tag(self, name: str) -> TagRecord:
        tag, created = self.data.find_or_create_tag(name, self.now)
        if created:
            self.emit("tag.created", tag=tag.to_api())
        return tag

    def pick(self, state: str, count: int, exclude: set[int]) -> list[SubscriberRecord]:
        pool = [
            subscriber
            for subscriber in self.data.subscribers.values()
            if subscriber.state == state and subscriber.id not in exclude
        ]
        return self.rng.sample(pool, min(count, len(pool)))


def make_activity(
    data: AccountData, hub: WebhookHub, kind: str, now: datetime
) -> dict[str, int]:
    """Change the account for real and emit the events; returns how many
    events of each type were emitted."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    run = hub.activity_runs.get(data.account_id, 0) + 1
    hub.activity_runs[data.account_id] = run
    activity = _Activity(data, hub, run, now.replace(microsecond=0))
    if kind == "burst":
        _burst(activity)
    else:
        _batch(activity)
    return dict(activity.emitted)


def _burst(activity: _Activity) -> None:
    data = activity.data
    newcomers = [activity.new_subscriber() for _ in range(NEW_SUBSCRIBERS)]
    fresh = {subscriber.id for subscriber in newcomers}
    forms = [form for form in data.forms if not form.archived]
    if forms:
        activity.emit(
            "subscriber.subscribed_to_form",
            subscriber=newcomers[0].to_api(),
            form=activity.rng.choice(forms).to_api(),
        )
    if data.sequences:
        activity.emit(
            "subscriber.added_to_sequence",
            subscriber=newcomers[1].to_api(),
            sequence=activity.rng.choice(data.sequences).to_api(),
        )
    for subscriber in activity.pick("inactive", 1, fresh):
        data.change_state(subscriber, "active", activity.now)
        activity.emit("subscriber.activated", subscriber=subscriber.to_api())

    tags = list(data.tags.values()) or [activity.tag(FIRST_TAG)]
    welcome = activity.rng.choice(tags)
    for subscriber in newcomers:
        data.tag_subscriber(welcome, subscriber, activity.now)
        activity.emit(
            "subscriber.tag_added", subscriber=subscriber.to_api(), tag=welcome.to_api()
        )
    tagged = [
        (tag, data.subscribers[subscriber_id])
        for tag in tags
        for subscriber_id in data.taggings.get(tag.id, {})
        if subscriber_id not in fresh
    ]
    if tagged:
        tag, subscriber = activity.rng.choice(tagged)
        data.untag_subscriber(tag, subscriber)
        activity.emit(
            "subscriber.tag_removed", subscriber=subscriber.to_api(), tag=tag.to_api()
        )

    leaving = activity.pick("active", UNSUBSCRIBES + 2, fresh)
    outcomes = ["cancelled"] * UNSUBSCRIBES + ["bounced", "complained"]
    event_types = {
        "cancelled": "subscriber.unsubscribed",
        "bounced": "subscriber.bounced",
        "complained": "subscriber.complained",
    }
    for subscriber, state in zip(leaving, outcomes, strict=False):
        data.change_state(subscriber, state, activity.now)
        activity.emit(event_types[state], subscriber=subscriber.to_api())


def _batch(activity: _Activity) -> None:
    """Tag 100 active subscribers at once with a tag none of them has (an
    existing one if it can, else a new one), adding subscribers if the
    account has fewer than 100 to tag."""
    data, size = activity.data, MAX_EVENTS_PER_DELIVERY

    def untagged(tag: TagRecord) -> list[SubscriberRecord]:
        have = data.taggings.get(tag.id, {})
        return [
            subscriber
            for subscriber in reversed(data.subscribers.values())
            if subscriber.state == "active" and subscriber.id not in have
        ]

    tag = next(
        (tag for tag in data.tags.values() if len(untagged(tag)) >= size), None
    ) or activity.tag(f"Bulk import {activity.rng.randint(100, 999)}")
    chosen = untagged(tag)[:size]
    while len(chosen) < size:
        chosen.append(activity.new_subscriber())
    for subscriber in chosen:
        data.tag_subscriber(tag, subscriber, activity.now)
    rendered_tag = tag.to_api()
    activity.hub.emit_bulk(
        data.account_id,
        "subscriber.tag_added",
        ({"subscriber": s.to_api(), "tag": rendered_tag} for s in chosen),
        activity.now,
    )
    activity.emitted["subscriber.tag_added"] += size


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore")
    return "".join(c for c in ascii_name.decode().lower() if c.isalnum())
