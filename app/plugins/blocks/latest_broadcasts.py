"""The "Latest broadcasts" block: the creator's newest sent broadcasts, from
their Kit data through the connection, as a list of links for an email.

The worked example of a standard block: settings of several kinds (text,
numerical input, toggles, a select that depends on a toggle, and a search
with its own URL), one Kit call answered within a time budget or from the
copy kept (`app/plugins/kept.py`), Kit's styles inline (`app/plugins/html.py`).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from app.kit.times import AccountZone, kit_time
from app.kit_cache import client_for
from app.models import KitConnection
from app.plugins import html
from app.plugins.blocks import Block, BlockError, Option, Settings
from app.plugins.kept import within_budget

MOST = 10  # the most a creator can ask for; one page of Kit's list holds them
PAGE = 50  # drafts and scheduled ones are skipped: read a page deep enough
# Kept of each broadcast: its content (the email's HTML, kilobytes each) is not.
FIELDS = ("id", "subject", "preview_text", "status", "send_at", "published_at")

SETTINGS: list[dict[str, Any]] = [
    {"type": "text", "name": "heading", "label": "Heading", "required": False},
    {
        "type": "numericalInput",
        "name": "count",
        "label": "How many",
        "min": 1,
        "max": MOST,
    },
    {"type": "toggle", "name": "show_dates", "label": "Show dates"},
    {
        "type": "select",
        "name": "date_format",
        "label": "Date format",
        "options": [
            {"label": "Dec 7, 2026", "value": "long"},
            {"label": "2026-12-07", "value": "iso"},
        ],
        "dependencies": [{"field": "show_dates", "value": True}],
    },
    {"type": "toggle", "name": "show_preview", "label": "Show preview text"},
    {
        "type": "search",
        "name": "pinned",
        "label": "Pin a broadcast first",
        "placeholder": "Search your sent broadcasts",
        "required": False,
    },
]
DEFAULTS = {
    "heading": "Latest broadcasts",
    "count": 3,
    "show_dates": True,
    "date_format": "long",
    "show_preview": False,
    "pinned": "",
}
DATE_FORMATS = {"long": "%b %-d, %Y", "iso": "%Y-%m-%d"}


def sent_broadcasts(connection: KitConnection) -> list[dict[str, Any]]:
    """The connection's sent broadcasts, newest first (Kit's items, trimmed)."""

    def ask_kit() -> list[dict[str, Any]]:
        page = client_for(connection.id).page("broadcasts", "broadcasts", per_page=PAGE)
        sent = [
            {name: item.get(name) for name in (*FIELDS, "public_url")}
            for item in page.items
            if item.get("status") == "completed"
        ]
        return sorted(sent, key=_sent_at, reverse=True)

    kept: list[dict[str, Any]] = within_budget(
        connection.id, "plugin:sent_broadcasts", ask_kit
    )
    return kept


def _sent_at(item: dict[str, Any]) -> datetime:
    return kit_time(item.get("send_at") or item.get("published_at")) or (
        datetime.min.replace(tzinfo=AccountZone().tzinfo)
    )


def search(connection: KitConnection, text: str) -> list[Option]:
    """Sent broadcasts whose subject holds `text` (all of them for an empty
    search), or the one whose id is `text` (a reopened draft's saved value)."""
    needle = text.casefold()
    return [
        {"label": item["subject"] or "(no subject)", "value": str(item["id"])}
        for item in sent_broadcasts(connection)
        if not needle
        or str(item["id"]) == text
        or needle in (item["subject"] or "").casefold()
    ]


def render(
    connection: KitConnection, settings: Settings, styles: html.Styles
) -> str | BlockError:
    sent = sent_broadcasts(connection)
    if not sent:
        return BlockError(
            "No sent broadcasts yet: send one in Kit, then refresh this block."
        )
    pinned = [item for item in sent if str(item["id"]) == settings["pinned"]]
    shown = (pinned + [item for item in sent if item not in pinned])[
        : settings["count"]
    ]
    zone = AccountZone.of(connection.timezone, connection.timezone_label)
    items = "".join(_item(item, settings, styles, zone) for item in shown)
    heading = settings["heading"]
    return "<div>{}{}</div>".format(
        html.element("h2", styles, escape(heading)) if heading else "",
        html.element("ul", styles, items, own={"padding-left": "20px"}),
    )


def _item(
    item: dict[str, Any], settings: Settings, styles: html.Styles, zone: AccountZone
) -> str:
    subject = item["subject"] or "(no subject)"
    parts = [html.link(item.get("public_url") or "", subject, styles)]
    when = kit_time(item.get("send_at") or item.get("published_at"))
    if settings["show_dates"] and when is not None:
        date = zone.local(when).strftime(DATE_FORMATS[settings["date_format"]])
        parts.append(f" &middot; {escape(date)}")
    if settings["show_preview"] and item.get("preview_text"):
        parts.append(f"<br>{escape(item['preview_text'])}")
    return html.element("li", styles, "".join(parts), own={"margin-bottom": "8px"})


BLOCK = Block(
    name="latest_broadcasts",
    label="Latest broadcasts",
    description="Your newest sent broadcasts, as links",
    settings=SETTINGS,
    defaults=DEFAULTS,
    render=render,
    searches={"pinned": search},
)
