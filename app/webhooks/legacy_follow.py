"""What a creator follows through Kit's legacy webhooks besides purchases: a
product's purchases (`subscriber.product_purchase`) or a link's clicks
(`subscriber.link_click`). Kit needs one rule per product or link, with its id
or URL; `register_legacy_rules` then keeps the rule at Kit (the caller queues
it: these functions only write rows, so no transaction waits on Kit). Used by
the App settings page (`app/settings/following.py`) and by `flask kit webhooks
legacy follow | unfollow` (legacy_cli.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import LegacyWebhook
from app.webhooks.legacy_rules import FOLLOWED, new_row

MAX_LINK = 1000  # the column's size
MAX_PRODUCT_DIGITS = 10  # Kit's ids are 32-bit; int() of 5000 digits raises
MAX_FOLLOWED = 50  # one rule at Kit each, and one Kit call each per registration
KINDS = {"link": "subscriber.link_click", "product": "subscriber.product_purchase"}


class BadRule(ValueError):
    """Not a product id or link URL Kit takes."""


class AlreadyFollowed(BadRule):
    """The connection follows that link or product already."""


@dataclass(frozen=True)
class Followed:
    """One followed link or product, as the settings page lists it."""

    id: int
    kind: str  # "link" or "product"
    param: str
    status: str  # as stored: pending, active, failed, unavailable, gone
    refused: bool  # failed because Kit refused it (not because Kit was down)
    last_delivery_at: datetime | None


def checked(event: str, param: str) -> str:
    """`param` as stored for `event` (BadRule if Kit would not take it)."""
    param = param.strip()
    if event == "subscriber.product_purchase":
        if not (
            param.isascii()
            and param.isdigit()
            and len(param) <= MAX_PRODUCT_DIGITS
            and 0 < int(param) < 2**31
        ):
            raise BadRule("a product id is a number, like 12345")
        return str(int(param))
    if event == "subscriber.link_click":
        if len(param) > MAX_LINK:
            raise BadRule(f"a link is at most {MAX_LINK} characters")
        parts = urlsplit(param) if param.isprintable() and " " not in param else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadRule("a link is an http:// or https:// address")
        return param
    raise BadRule(f"follow one of {', '.join(FOLLOWED)}")


def find(connection_id: int, event: str, param: str) -> LegacyWebhook | None:
    return db.session.scalar(
        select(LegacyWebhook).where(
            LegacyWebhook.connection_id == connection_id,
            LegacyWebhook.event == event,
            LegacyWebhook.param == param,
        )
    )


def follow(
    connection_id: int, event: str, param: str, *, new_only: bool = False
) -> LegacyWebhook:
    """Have the connection follow a product's purchases or a link's clicks
    (committed; the caller queues `register_legacy_rules`). Following again
    is a no-op, or AlreadyFollowed with `new_only` (the page says so)."""
    param = checked(event, param)
    row = find(connection_id, event, param)
    if row is not None:
        db.session.commit()
        if new_only:
            raise AlreadyFollowed("you follow it already")
        return row
    count = db.session.scalar(
        select(func.count()).where(
            LegacyWebhook.connection_id == connection_id,
            LegacyWebhook.event.in_(FOLLOWED),
        )
    )
    if (count or 0) >= MAX_FOLLOWED:
        db.session.commit()
        raise BadRule(f"you follow {MAX_FOLLOWED} already: unfollow one first")
    row = new_row(connection_id, event, param)
    try:
        db.session.commit()
    except IntegrityError:  # the same follow, submitted twice at once
        db.session.rollback()
        return follow(connection_id, event, param, new_only=new_only)
    return row


def unfollow(connection_id: int, rule_id: int) -> bool:
    """Stop following (False: the connection followed no such link or
    product). Only the row goes here: its rule at Kit is then a leftover that
    the next `register_legacy_rules` deletes, and until then a delivery to
    its key finds no rule (404) and nothing is kept."""
    result = db.session.execute(
        delete(LegacyWebhook).where(
            LegacyWebhook.id == rule_id,
            LegacyWebhook.connection_id == connection_id,
            LegacyWebhook.event.in_(FOLLOWED),
        )
    )
    db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def followed(connection_id: int) -> list[Followed]:
    """The connection's followed links, then products, as stored."""
    kind_of = {event: kind for kind, event in KINDS.items()}
    rows = db.session.scalars(
        select(LegacyWebhook)
        .where(
            LegacyWebhook.connection_id == connection_id,
            LegacyWebhook.event.in_(FOLLOWED),
        )
        .order_by(LegacyWebhook.event, LegacyWebhook.id)
    ).all()
    listed = [
        Followed(
            row.id,
            kind_of[row.event],
            row.param,
            row.status,
            row.status == LegacyWebhook.FAILED
            and (row.last_error or "").startswith("Kit refused it"),
            row.last_delivery_at,
        )
        for row in rows
    ]
    db.session.commit()
    return listed


def status_of(connection_id: int, rule_id: int) -> Followed | None:
    return next((f for f in followed(connection_id) if f.id == rule_id), None)
