"""Kit's legacy webhooks (`/v4/webhooks`, KIT_PLATFORM.md 5): the calls for the
app's rules at Kit (list, create, delete). One rule is one event type, with its
parameter when Kit requires one (a product id for `subscriber.product_purchase`,
a link URL for `subscriber.link_click`), delivered unsigned to `target_url`.
Receiving them is `app.webhooks.legacy`.

Kit's answers: `GET` a cursor list under `webhooks`; `POST` `{"target_url",
"event": {"name", ...}}` → 201 `{"webhook": {"id", "account_id", "event":
{"name", "initiator_value"}, "target_url"}}`; `DELETE /v4/webhooks/{id}` → 204,
404 when there is no such rule. A 404 to list or create: the account has no
webhooks at all (`LegacyUnavailable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.kit.api import KitClient
from app.kit.errors import KitError, KitNotFound

PATH = "webhooks"
#: The event's parameter, by event, as Kit names it in `event` (the others
#: have none). Integers travel as integers.
PARAMETERS: dict[str, tuple[str, type]] = {
    "subscriber.link_click": ("initiator_value", str),
    "subscriber.product_purchase": ("product_id", int),
    "subscriber.form_subscribe": ("form_id", int),
    "subscriber.course_subscribe": ("sequence_id", int),
    "subscriber.course_complete": ("sequence_id", int),
    "subscriber.tag_add": ("tag_id", int),
    "subscriber.tag_remove": ("tag_id", int),
}


class LegacyUnavailable(KitError):
    """Kit answered 404 to listing or creating legacy webhooks."""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Rule:
    """One of Kit's legacy webhooks. `param`: the event's parameter as text
    ("" when it has none)."""

    id: str
    event: str
    param: str
    target_url: str

    @classmethod
    def from_kit(cls, body: Any) -> Rule:
        item = _object(body)
        item = _object(item.get("webhook")) or _object(item.get("rule")) or item
        rule_id = item.get("id")
        if rule_id in (None, ""):
            raise KitError("Kit's webhook answer has no id")
        event = _object(item.get("event"))
        name = str(event.get("name") or "")
        key = PARAMETERS.get(name, ("", str))[0]
        value = event.get(key) if key else None
        return cls(
            id=str(rule_id),
            event=name,
            param="" if value is None else str(value),
            target_url=str(item.get("target_url") or ""),
        )


def event_body(event: str, param: str) -> dict[str, Any]:
    """`event` as Kit takes it: `{"name"}` plus the parameter it requires."""
    body: dict[str, Any] = {"name": event}
    if event in PARAMETERS:
        key, kind = PARAMETERS[event]
        body[key] = int(param) if kind is int else param
    return body


def create_rule(client: KitClient, target_url: str, event: str, param: str) -> Rule:
    body = {"target_url": target_url, "event": event_body(event, param)}
    try:
        return Rule.from_kit(client.post(PATH, json=body))
    except KitNotFound:
        raise LegacyUnavailable("Kit webhooks are not enabled") from None


def list_rules(client: KitClient) -> list[Rule]:
    """Every legacy webhook of the account, all pages."""
    try:
        return [
            Rule.from_kit(item)
            for item in client.iterate(PATH, "webhooks", per_page=500)
        ]
    except KitNotFound:
        raise LegacyUnavailable("Kit webhooks are not enabled") from None


def delete_rule(client: KitClient, rule_id: str) -> bool:
    """Delete the rule; False when Kit had no such rule (gone already)."""
    try:
        client.call("DELETE", f"{PATH}/{rule_id}")
    except KitNotFound:
        return False
    return True
