"""Forms and sequences with their subscribers: how many each has (on the list
pages) and who they are (a page each), from Kit's
`GET /v4/forms/<id>/subscribers` and `GET /v4/sequences/<id>/subscribers`.

Kit's lists of forms and sequences carry no counts: each is one call
(`include_total_count` on a one-item page). A page's counts go out at once
through `answers` and are cached per connection generation; a count whose
call failed is None (the list shows, and says which it could not get).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from app.dashboard.data import PER_PAGE, Cursor, KnownTotal
from app.kit.api import Page
from app.kit.errors import KitNotFound
from app.kit.resources import Form, Sequence, Subscriber
from app.kit_cache import answers, client_for

Kind = Literal["forms", "sequences"]
#: What each list asks for: every form, archived ones included.
LIST_FILTERS: dict[str, dict[str, str]] = {"forms": {"status": "all"}, "sequences": {}}


def count_name(kind: Kind, item_id: int) -> str:
    """The cache entry of a form's or sequence's count (shared by the list's
    count and the item's page, like a tag's)."""
    return f"{kind}_count:{item_id}"


def counts(connection_id: int, kind: Kind, ids: list[int]) -> dict[int, int | None]:
    """How many active subscribers each of `ids` has: one call each, all at
    once, each cached; None where Kit did not answer."""
    client = client_for(connection_id)

    def count(item_id: int) -> Callable[[], Any]:
        return lambda: (
            client.page(
                f"{kind}/{item_id}/subscribers",
                "subscribers",
                per_page=1,
                include_total_count=True,
            ).total_count
        )

    calls = {count_name(kind, i): count(i) for i in ids}
    found = answers(client, calls, optional=calls)
    return {
        i: (found[count_name(kind, i)] or 0) if count_name(kind, i) in found else None
        for i in ids
    }


@dataclass(frozen=True)
class MembersPage:
    """A form or sequence and a page of its subscribers (with `added_at`)."""

    item: Form | Sequence
    page: Page[Subscriber]


def members(
    connection_id: int, kind: Kind, item_id: int, cursor: Cursor
) -> MembersPage:
    """The form or sequence and a page of its subscribers, newest first, with
    their count: one round trip. `KitNotFound` for an id not in the account."""
    client = client_for(connection_id)
    known = KnownTotal.lookup(connection_id, count_name(kind, item_id), cursor)
    name = f"{kind}_page:{item_id}:{cursor.after}:{cursor.before}:{known.ask}"
    found = answers(
        client,
        {
            f"all:{kind}": lambda: list(
                client.iterate(kind, kind, **LIST_FILTERS[kind])
            ),
            name: lambda: client.page(
                f"{kind}/{item_id}/subscribers",
                "subscribers",
                per_page=PER_PAGE,
                include_total_count=known.ask,
                **cursor._asdict(),
            ),
        },
    )
    parse = Form.from_kit if kind == "forms" else Sequence.from_kit
    items = [i for i in map(parse, found[f"all:{kind}"]) if i.id == item_id]
    if not items:
        raise KitNotFound(404, ["Not Found"])
    page: Page[dict[str, Any]] = known.apply(found[name])
    return MembersPage(items[0], page.map(Subscriber.from_kit))
