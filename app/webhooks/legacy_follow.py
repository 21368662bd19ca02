"""What a creator follows through Kit's legacy webhooks besides purchases: a
product's purchases (`subscriber.product_purchase`) or a link's clicks
(`subscriber.link_click`). Kit needs one rule per product or link, with its id
or URL; `register_legacy_rules` then keeps the rule at Kit. Used by
`flask kit webhooks legacy follow` (legacy_cli.py)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import LegacyWebhook
from app.webhooks.legacy_rules import FOLLOWED, new_row

MAX_LINK = 1000


class BadRule(ValueError):
    """Not a product id or link URL Kit takes."""


def follow(connection_id: int, event: str, param: str) -> LegacyWebhook:
    """Have the connection follow a product's purchases or a link's clicks
    (committed; the caller queues `register_legacy_rules`)."""
    param = param.strip()
    if event == "subscriber.product_purchase":
        if not (param.isascii() and param.isdigit() and 0 < int(param) < 2**31):
            raise BadRule("a product id is a number")
        param = str(int(param))
    elif event == "subscriber.link_click":
        if not re.fullmatch(r"https?://[^\s]+", param) or len(param) > MAX_LINK:
            raise BadRule("a link is an http(s) URL")
    else:
        raise BadRule(f"follow one of {', '.join(FOLLOWED)}")
    row = db.session.scalar(
        select(LegacyWebhook).where(
            LegacyWebhook.connection_id == connection_id,
            LegacyWebhook.event == event,
            LegacyWebhook.param == param,
        )
    )
    if row is None:
        row = new_row(connection_id, event, param)
    db.session.commit()
    return row
