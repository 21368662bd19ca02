"""A bulk action's events as one row of the feed: Kit batches a bulk action
(a creator tagging 100 subscribers at once) into deliveries of up to 100
events of one type (KIT_PLATFORM.md 5a). Listed one by one they bury
everything else; the feed shows each run of them as one row, "Tagged 100
subscribers «VIP»", whose subscribers open beneath it (a <details>).

A run is consecutive events (in the feed's order) of one delivery, one type
and one subject (tag, form, sequence); from `MIN_GROUP` of them it is a group.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from app.webhooks.feed import Entry

#: Kit also batches events that merely happen close together (three sign-ups
#: in a minute): a handful still reads best as rows of their own. Ten or more
#: of one kind in one delivery are a bulk action, and become one row.
MIN_GROUP = 10
#: A group never holds more than this (Kit's deliveries hold 100).
MAX_GROUP = 1000

# "Tagged 100 subscribers «VIP»": the number, then the subject if any.
PHRASES: dict[str, tuple[str, str]] = {
    "subscriber.created": ("{n} new subscribers", "{n} new subscribers"),
    "subscriber.activated": (
        "{n} subscribers confirmed",
        "{n} subscribers confirmed",
    ),
    "subscriber.unsubscribed": (
        "{n} subscribers unsubscribed",
        "{n} subscribers unsubscribed",
    ),
    "subscriber.bounced": ("{n} subscribers bounced", "{n} subscribers bounced"),
    "subscriber.complained": (
        "{n} subscribers marked your email as spam",
        "{n} subscribers marked your email as spam",
    ),
    "subscriber.subscribed_to_form": (
        "{n} subscribers joined through form «{s}»",
        "{n} subscribers joined through a form",
    ),
    "subscriber.added_to_sequence": (
        "Added {n} subscribers to sequence «{s}»",
        "Added {n} subscribers to a sequence",
    ),
    "subscriber.sequence_completed": (
        "{n} subscribers completed sequence «{s}»",
        "{n} subscribers completed a sequence",
    ),
    "subscriber.tag_added": ("Tagged {n} subscribers «{s}»", "Tagged {n} subscribers"),
    "subscriber.tag_removed": (
        "Untagged {n} subscribers «{s}»",
        "Untagged {n} subscribers",
    ),
}


@dataclass(frozen=True)
class Group:
    """A run of one bulk action's events, newest first."""

    group: ClassVar[bool] = True
    entries: list[Entry]

    @property
    def id(self) -> int:
        """The newest row's id: what live updates and de-duplication use."""
        return max(entry.id for entry in self.entries)

    @property
    def type(self) -> str:
        return self.entries[0].type

    @property
    def occurred_at(self) -> datetime:
        return self.entries[0].occurred_at

    @property
    def words(self) -> str:
        first = self.entries[0]
        n = f"{len(self.entries):,}"
        with_subject, without = PHRASES.get(
            first.type, (f"{{n}} events: {first.words}", f"{{n}} events: {first.words}")
        )
        phrase = with_subject if first.subject else without
        return phrase.format(n=n, s=first.subject)


def _key(entry: Entry) -> tuple[int, str, str] | None:
    if entry.delivery_id is None:
        return None
    return entry.delivery_id, entry.type, entry.subject


def runs(entries: Iterable[Entry]) -> list[list[Entry]]:
    """Consecutive entries of one delivery, type and subject, together."""
    found: list[list[Entry]] = []
    for entry in entries:
        last = found[-1] if found else None
        key = _key(entry)
        if (
            last is not None
            and key is not None
            and _key(last[0]) == key
            and len(last) < MAX_GROUP
        ):
            last.append(entry)
        else:
            found.append([entry])
    return found


def pieces(found: Iterable[list[Entry]]) -> Iterator[list[Entry]]:
    """What the feed shows one row each: a run long enough to be a group,
    else each of its entries."""
    for run in found:
        if len(run) >= MIN_GROUP:
            yield run
        else:
            yield from ([entry] for entry in run)


def rows(found: Iterable[list[Entry]]) -> list[Entry | Group]:
    return [
        Group(piece) if len(piece) >= MIN_GROUP else piece[0] for piece in pieces(found)
    ]
