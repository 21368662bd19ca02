"""Finding subscribers by part of an email address or name.

Kit's API filters subscribers only by a whole email address. A whole address
is one call with that filter; anything else reads the newest subscribers (at
most `SCAN_PAGES` pages of `SCAN_PER_PAGE`, cached per connection generation
and status) and matches them here, showing at most `MATCHES_SHOWN`, and says
how much of the list it read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.dashboard.data import Cursor, page_of
from app.kit.resources import Subscriber
from app.kit_cache import cached, client_for

SCAN_PER_PAGE = 1000
SCAN_PAGES = 5
MATCHES_SHOWN = 100


@dataclass(frozen=True)
class Search:
    """The subscribers a search found: `matches` (at most `MATCHES_SHOWN` of
    `matched`) among the `scanned` newest of `total` in the status."""

    matches: list[Subscriber]
    matched: int
    scanned: int
    total: int | None
    complete: bool


def is_email(words: str) -> bool:
    """A whole email address (Kit can look it up), not a part of one."""
    name, at, domain = words.partition("@")
    return bool(name and at and "." in domain.strip(".")) and " " not in words


def search_subscribers(connection_id: int, words: str, status: str) -> Search:
    """Subscribers in `status` whose email or first name holds `words`.

    A whole email address is one call (Kit's exact filter). Anything else
    reads the newest subscribers, a page of 1,000 per call, at most 5 pages,
    and matches here; what was read is cached, so the next search costs none.
    """
    client = client_for(connection_id)
    if is_email(words):
        page = page_of(
            connection_id, "subscribers", Cursor(), status=status, email_address=words
        )
        found = [Subscriber.from_kit(item) for item in page.items]
        return Search(found, len(found), len(found), None, True)

    def scan() -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        after, total, more = None, None, True
        for number in range(SCAN_PAGES):
            page = client.page(
                "subscribers",
                "subscribers",
                after=after,
                per_page=SCAN_PER_PAGE,
                include_total_count=number == 0,
                status=status,
            )
            items += page.items
            total = page.total_count if number == 0 else total
            more = page.has_next and bool(page.end_cursor)
            if not more:
                break
            after = page.end_cursor
        return {"items": items, "total": total, "complete": not more}

    read = cached(connection_id, "scan:subscribers", scan, status=status)
    wanted = words.lower()
    found = [s for s in map(Subscriber.from_kit, read["items"]) if s.matches(wanted)]
    return Search(
        found[:MATCHES_SHOWN],
        len(found),
        len(read["items"]),
        read["total"],
        read["complete"],
    )
