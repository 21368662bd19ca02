"""What the dashboard pages show, fetched from Kit and handed to the templates
as the typed values of `app.kit.resources` (the writes the pages make are in
`writes`). How the calls are cached per connection and made at once is in
`app.kit_cache`; the overview, whose finished days come from the database
(`app.stored_days`), is in `overview`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, TypeVar

from app.extensions import cache
from app.kit.api import Page
from app.kit.errors import (
    KitNotFound,
)
from app.kit.resources import (
    CustomField,
    Form,
    Sequence,
    Subscriber,
    SubscriberTag,
    Tag,
    custom_values,
)
from app.kit_cache import (
    answers,
    cached,
    client_for,
    generation,
    key,
)

T = TypeVar("T")
PER_PAGE = 50


class Cursor(NamedTuple):
    """Where a page of a list starts: after `after`, before `before`, or at the
    first page. Kit's cursors are opaque: they are only passed back."""

    after: str | None = None
    before: str | None = None


# --- what the pages show ----------------------------------------------------------


@dataclass(frozen=True)
class KnownTotal:
    """A list's count, which Kit gives only when asked (`include_total_count`,
    slow on big lists): asked on the first page and kept, per connection
    generation, for the pages after it; asked again on a later page only
    when it is gone from the cache."""

    entry: str
    total: int | None
    cursor: Cursor

    @classmethod
    def lookup(
        cls, connection_id: int, name: str, cursor: Cursor, **params: Any
    ) -> KnownTotal:
        entry = key(connection_id, generation(connection_id), name, params)
        return cls(entry, cache.get(entry), cursor)

    @property
    def ask(self) -> bool:
        return self.cursor == Cursor() or self.total is None

    def apply(self, page: Page[T]) -> Page[T]:
        """The page with the count: Kit's (kept for later pages), or the kept one."""
        if page.total_count is not None:
            cache.set(self.entry, page.total_count)
            return page
        return replace(page, total_count=self.total)


def subscribers(connection_id: int, cursor: Cursor, status: str) -> Page[Subscriber]:
    """A page of subscribers in `status`, with the count of them all."""
    client = client_for(connection_id)
    known = KnownTotal.lookup(connection_id, "total:subscribers", cursor, status=status)
    query = {"status": status, **cursor._asdict()}
    page = cached(
        connection_id,
        "page:subscribers",
        lambda: client.page(
            "subscribers",
            "subscribers",
            per_page=PER_PAGE,
            include_total_count=known.ask,
            **query,
        ),
        count=known.ask,
        **query,
    )
    return known.apply(page).map(Subscriber.from_kit)


@dataclass(frozen=True)
class SubscriberPage:
    """What the subscriber page shows."""

    subscriber: Subscriber
    # None: Kit did not answer for them (the page says so, shows the rest).
    fields: list[tuple[str, str]] | None
    tags: list[SubscriberTag] | None
    #: The account's tags the subscriber does not have: the "Add a tag" choices.
    other_tags: list[Tag] | None


def subscriber(connection_id: int, subscriber_id: int) -> SubscriberPage:
    """One subscriber, their custom fields and tags: one round trip. Raises
    `KitNotFound` for an id Kit does not know in this account. Custom fields
    and tags whose calls failed are None; the subscriber is needed."""
    client = client_for(connection_id)
    extras = {
        f"subscriber_tags:{subscriber_id}",
        "all:custom_fields",
        "all:tags",
    }
    found = answers(
        client,
        {
            f"subscriber:{subscriber_id}": lambda: client.get(
                f"subscribers/{subscriber_id}"
            ),
            f"subscriber_tags:{subscriber_id}": lambda: list(
                client.iterate(f"subscribers/{subscriber_id}/tags", "tags")
            ),
            "all:custom_fields": lambda: list(
                client.iterate("custom_fields", "custom_fields")
            ),
            "all:tags": lambda: list(client.iterate("tags", "tags")),
        },
        optional=extras,
    )
    body = found[f"subscriber:{subscriber_id}"]
    values = None
    if "all:custom_fields" in found:
        fields_ = [CustomField.from_kit(item) for item in found["all:custom_fields"]]
        values = custom_values(body, fields_)
    tags_ = None
    if f"subscriber_tags:{subscriber_id}" in found:
        tags_ = [
            SubscriberTag.from_kit(item)
            for item in found[f"subscriber_tags:{subscriber_id}"]
        ]
    other = None
    if tags_ is not None and "all:tags" in found:
        having = {tag.id for tag in tags_}
        other = sorted(
            (t for t in map(Tag.from_kit, found["all:tags"]) if t.id not in having),
            key=lambda t: t.name.lower(),
        )
    return SubscriberPage(
        Subscriber.from_kit((body or {}).get("subscriber")), values, tags_, other
    )


def forms(connection_id: int, cursor: Cursor) -> Page[Form]:
    """A page of forms, archived ones included."""
    return page_of(connection_id, "forms", cursor, status="all").map(Form.from_kit)


def sequences(connection_id: int, cursor: Cursor) -> Page[Sequence]:
    return page_of(connection_id, "sequences", cursor).map(Sequence.from_kit)


def tags(connection_id: int) -> list[Tag]:
    """Every tag, all pages of them, sorted by name."""
    client = client_for(connection_id)
    items = cached(
        connection_id, "all:tags", lambda: list(client.iterate("tags", "tags"))
    )
    return sorted(map(Tag.from_kit, items), key=lambda t: (t.name.lower(), t.id))


def tag_counts(connection_id: int, shown: list[Tag]) -> dict[int, int | None]:
    """How many subscribers carry each of `shown`: a call per tag (Kit has no
    count in the tag list), all at once, each cached. None for a tag whose
    call failed (the page shows the others)."""
    client = client_for(connection_id)

    def count(tag_id: int) -> Callable[[], Any]:
        return lambda: (
            client.page(
                f"tags/{tag_id}/subscribers",
                "subscribers",
                per_page=1,
                include_total_count=True,
            ).total_count
        )

    calls = {f"tag_count:{t.id}": count(t.id) for t in shown}
    found = answers(client, calls, optional=calls)
    names = {t.id: f"tag_count:{t.id}" for t in shown}
    return {i: (found[n] or 0) if n in found else None for i, n in names.items()}


@dataclass(frozen=True)
class TagPage:
    tag: Tag
    page: Page[Subscriber]


def tag(connection_id: int, tag_id: int, cursor: Cursor) -> TagPage:
    """A tag and a page of its subscribers, newest tagging first, with their
    count; `KitNotFound` for a tag not in this account."""
    client = client_for(connection_id)
    # The same entry as the tags page's count of this tag (`tag_counts`).
    known = KnownTotal.lookup(connection_id, f"tag_count:{tag_id}", cursor)
    name = f"tag_page:{tag_id}:{cursor.after}:{cursor.before}:{known.ask}"
    found = answers(
        client,
        {
            "all:tags": lambda: list(client.iterate("tags", "tags")),
            name: lambda: client.page(
                f"tags/{tag_id}/subscribers",
                "subscribers",
                per_page=PER_PAGE,
                include_total_count=known.ask,
                **cursor._asdict(),
            ),
        },
    )
    tags_ = [t for t in map(Tag.from_kit, found["all:tags"]) if t.id == tag_id]
    if not tags_:
        raise KitNotFound(404, ["Not Found"])
    page: Page[dict[str, Any]] = known.apply(found[name])
    return TagPage(tags_[0], page.map(Subscriber.from_kit))


def page_of(
    connection_id: int, path: str, cursor: Cursor, **filters: Any
) -> Page[dict[str, Any]]:
    """One page of a Kit list (`path` is also its root key), cached."""
    client = client_for(connection_id)
    query = {**filters, **cursor._asdict()}
    return cached(
        connection_id,
        f"page:{path}",
        lambda: client.page(path, path, per_page=PER_PAGE, **query),
        **query,
    )
