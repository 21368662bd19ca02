"""The "Personal greeting" block: a dynamic block, whose HTML is Liquid that
Kit renders for each subscriber when the email goes out
(`{{ subscriber.first_name }}`, a custom field's `{{ subscriber.<key> }}`).

It makes no call to Kit when it renders (only its search lists the
creator's custom fields), so it answers at once whatever Kit's API does. What
the creator typed is escaped for HTML *and* for Liquid: a `{{` or `{%` in a
setting is shown as typed, never run for each subscriber.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from app.kit_cache import client_for
from app.models import KitConnection
from app.plugins import html
from app.plugins.blocks import Block, BlockError, Option, Settings
from app.plugins.kept import within_budget

FIELD_KEY = re.compile(r"^[a-z0-9_]{1,64}$")  # Kit's custom field keys

SETTINGS: list[dict[str, Any]] = [
    {"type": "text", "name": "greeting", "label": "Greeting"},
    {
        "type": "text",
        "name": "fallback",
        "label": "Name when a subscriber has none",
    },
    {"type": "textarea", "name": "message", "label": "Message"},
    {"type": "toggle", "name": "show_field", "label": "Show a custom field"},
    {
        "type": "search",
        "name": "field",
        "label": "Custom field",
        "placeholder": "Search your custom fields",
        "dependencies": [{"field": "show_field", "value": True}],
    },
]
DEFAULTS = {
    "greeting": "Hi",
    "fallback": "there",
    "message": "",
    "show_field": False,
    "field": "",
}


def custom_fields(connection: KitConnection) -> list[dict[str, Any]]:
    def ask_kit() -> list[dict[str, Any]]:
        found = client_for(connection.id).iterate("custom_fields", "custom_fields")
        return [{"key": f.get("key"), "label": f.get("label")} for f in found]

    fields: list[dict[str, Any]] = within_budget(
        connection.id, "plugin:custom_fields", ask_kit
    )
    return fields


def search(connection: KitConnection, text: str) -> list[Option]:
    needle = text.casefold()
    return [
        {"label": str(field["label"]), "value": str(field["key"])}
        for field in custom_fields(connection)
        if not needle
        or field["key"] == text
        or needle in str(field["label"]).casefold()
    ]


def text(value: str) -> str:
    """Creator text as HTML that Liquid leaves alone."""
    return escape(value).replace("{", "&#123;").replace("}", "&#125;")


def render(
    connection: KitConnection, settings: Settings, styles: html.Styles
) -> str | BlockError:
    name = f'{{{{ subscriber.first_name | default: "{text(settings["fallback"])}" }}}}'
    parts = [html.element("p", styles, f"{text(settings['greeting'])}, {name}!")]
    if settings["message"]:
        parts.append(html.element("p", styles, text(settings["message"])))
    key = settings["field"]
    if settings["show_field"] and key:
        if not FIELD_KEY.match(key):
            return BlockError("Choose one of your custom fields.", 422)
        label = text(key.replace("_", " ").capitalize())
        line = html.element("p", styles, f"{label}: {{{{ subscriber.{key} }}}}")
        parts.append(f"{{% if subscriber.{key} %}}{line}{{% endif %}}")
    return f"<div>{''.join(parts)}</div>"


BLOCK = Block(
    name="personal_greeting",
    label="Personal greeting",
    description="Greets each subscriber by name, with a custom field",
    settings=SETTINGS,
    defaults=DEFAULTS,
    render=render,
    searches={"field": search},
    dynamic=True,
)
