"""Kit's legacy webhooks in the sandbox (KIT_PLATFORM.md §5): rules per target
URL, one event type each (with its required parameter), and their deliveries:
one unsigned JSON POST per event per rule, no batching, no retry, no history.

* ``LegacyHub`` (``state.webhooks.legacy``): the rules, and the deliveries
  waiting for the dispatcher (``dispatcher.py`` POSTs them, no lock held);
* ``make_purchase`` / ``click_link``: something happens in an account: a
  purchase (``purchase.purchase_create`` with the purchase as the body, and
  ``subscriber.product_purchase`` per product, the subscriber as the body),
  or a subscriber clicks a link (``subscriber.link_click``);
* the API (``/v4/webhooks``) is ``legacy_views.py``.

Webhooks 2.0 refuses these event types with 422 (``events.is_planned``): here
is the only way they leave the sandbox, as at Kit.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..audience import AccountData
from ..records import iso

#: Every event type the legacy API takes, with its required parameter (and
#: that parameter's type), in Kit's order.
LEGACY_EVENTS: dict[str, tuple[str, type] | None] = {
    "subscriber.subscriber_activate": None,
    "subscriber.subscriber_unsubscribe": None,
    "subscriber.subscriber_bounce": None,
    "subscriber.subscriber_complain": None,
    "subscriber.form_subscribe": ("form_id", int),
    "subscriber.course_subscribe": ("sequence_id", int),
    "subscriber.course_complete": ("sequence_id", int),
    "subscriber.link_click": ("initiator_value", str),
    "subscriber.product_purchase": ("product_id", int),
    "subscriber.tag_add": ("tag_id", int),
    "subscriber.tag_remove": ("tag_id", int),
    "purchase.purchase_create": None,
    "custom_field.field_created": None,
    "custom_field.field_deleted": None,
    "custom_field.field_value_updated": ("custom_field_id", int),
}
#: A 2.0 event's legacy counterpart, and the related record whose id is the
#: rule's parameter: what happens in an account goes out both ways.
FROM_2_0: dict[str, tuple[str, str | None]] = {
    "subscriber.activated": ("subscriber.subscriber_activate", None),
    "subscriber.unsubscribed": ("subscriber.subscriber_unsubscribe", None),
    "subscriber.bounced": ("subscriber.subscriber_bounce", None),
    "subscriber.complained": ("subscriber.subscriber_complain", None),
    "subscriber.subscribed_to_form": ("subscriber.form_subscribe", "form"),
    "subscriber.added_to_sequence": ("subscriber.course_subscribe", "sequence"),
    "subscriber.sequence_completed": ("subscriber.course_complete", "sequence"),
    "subscriber.tag_added": ("subscriber.tag_add", "tag"),
    "subscriber.tag_removed": ("subscriber.tag_remove", "tag"),
}
FIRST_RULE_ID = 9_001
FIRST_PURCHASE_ID = 30_001
#: The sandbox's shop: (product id, name, unit price).
PRODUCTS = (
    (501, "Sourdough masterclass", 49.0),
    (502, "Knife skills video course", 29.0),
    (503, "Printed recipe cards", 12.5),
)
#: The links a sandbox subscriber may click.
LINKS = (
    "https://example.com/recipes/sourdough",
    "https://example.com/shop",
)


@dataclass
class LegacyRule:
    id: int
    client_id: str
    account_id: int
    event: str
    param: Any  # the required parameter's value, None when the event has none
    target_url: str
    created_at: float

    def to_api(self) -> dict[str, Any]:
        event: dict[str, Any] = {"name": self.event, "initiator_value": None}
        spec = LEGACY_EVENTS[self.event]
        if spec is not None:
            event[spec[0]] = self.param
        return {
            "id": self.id,
            "account_id": self.account_id,
            "event": event,
            "target_url": self.target_url,
        }


@dataclass
class LegacyDelivery:
    """One POST to one rule's target URL, and what came of it."""

    rule_id: int
    url: str
    event: str
    body: dict[str, Any]
    created_at: float
    status_code: int | None = None
    error: str | None = None
    sent: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "target_url": self.url,
            "event": self.event,
            "body": self.body,
            "sent": self.sent,
            "status_code": self.status_code,
            "error": self.error,
        }


@dataclass
class LegacyHub:
    lock: threading.RLock
    changed: threading.Condition
    rules: dict[int, LegacyRule] = field(default_factory=dict)
    outbox: list[LegacyDelivery] = field(default_factory=list)
    sent: list[LegacyDelivery] = field(default_factory=list)
    #: Taken by the dispatcher, not sent yet (``flush`` waits for them too).
    in_flight: int = 0
    _rule_ids: int = FIRST_RULE_ID
    _purchase_ids: int = FIRST_PURCHASE_ID

    def reset(self) -> None:
        with self.lock:
            self.rules.clear()
            self.outbox.clear()
            self.sent.clear()
            self.in_flight = 0
            self._rule_ids, self._purchase_ids = FIRST_RULE_ID, FIRST_PURCHASE_ID

    def create_rule(
        self, client_id: str, account_id: int, event: str, param: Any, url: str
    ) -> LegacyRule:
        with self.lock:
            rule = LegacyRule(
                self._rule_ids, client_id, account_id, event, param, url, time.time()
            )
            self._rule_ids += 1
            self.rules[rule.id] = rule
            return rule

    def owned_rules(self, client_id: str, account_id: int) -> list[LegacyRule]:
        with self.lock:
            return [
                rule
                for rule in self.rules.values()
                if (rule.client_id, rule.account_id) == (client_id, account_id)
            ]

    def delete_rule(self, rule: LegacyRule) -> None:
        with self.lock:
            self.rules.pop(rule.id, None)
            self.outbox[:] = [d for d in self.outbox if d.rule_id != rule.id]

    def emit(self, account_id: int, event: str, param: Any, body: dict) -> int:
        """Queue ``body`` for every rule of the account for ``event`` (and
        ``param``, for the events that have one); returns how many."""
        with self.lock:
            rules = [
                rule
                for rule in self.rules.values()
                if rule.account_id == account_id
                and rule.event == event
                and (LEGACY_EVENTS[event] is None or rule.param == param)
            ]
            for rule in rules:
                self.outbox.append(
                    LegacyDelivery(rule.id, rule.target_url, event, body, time.time())
                )
            self.changed.notify_all()
            return len(rules)

    def emit_2_0(self, account_id: int, event_type: str, data: dict) -> None:
        """A Webhooks 2.0 event happened: its legacy counterpart goes to the
        legacy rules for it (the body: the subscriber)."""
        if event_type not in FROM_2_0 or not isinstance(data.get("subscriber"), dict):
            return
        name, related = FROM_2_0[event_type]
        param = None
        if related is not None:
            param = (data.get(related) or {}).get("id")
        self.emit(account_id, name, param, {"subscriber": data["subscriber"]})

    def take(self) -> list[LegacyDelivery]:
        """The deliveries to send now (hold the lock)."""
        taken, self.outbox[:] = list(self.outbox), []
        self.in_flight += len(taken)
        return taken

    def record(self, delivery: LegacyDelivery) -> None:
        with self.lock:
            delivery.sent = True
            self.in_flight = max(self.in_flight - 1, 0)
            self.sent.append(delivery)
            self.changed.notify_all()

    def wait_sent(self, count: int, timeout: float) -> None:
        """Until ``count`` deliveries were sent in all (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.sent) < count and time.monotonic() < deadline:
                self.changed.wait(deadline - time.monotonic())

    def new_purchase_id(self) -> int:
        with self.lock:
            self._purchase_ids += 1
            return self._purchase_ids - 1


def _subscriber(data: AccountData, rng: random.Random, email: str | None) -> Any:
    if email is not None:
        return data.subscriber_by_email(email)
    active = [s for s in data.subscribers.values() if s.state == "active"]
    return rng.choice(active) if active else None


def make_purchase(
    data: AccountData,
    hub: LegacyHub,
    now: datetime,
    email: str | None = None,
    product_ids: list[int] | None = None,
) -> dict[str, int]:
    """A subscriber buys (the products, else one or two at random): the legacy
    events Kit sends for it. Returns how many deliveries each event made."""
    rng = random.Random(f"{data.account_id}-purchase-{len(hub.sent)}")  # noqa: S311
    subscriber = _subscriber(data, rng, email)
    if subscriber is None:
        raise ValueError("no such subscriber")
    chosen = [p for p in PRODUCTS if p[0] in product_ids] if product_ids else []
    chosen = chosen or rng.sample(PRODUCTS, rng.randint(1, 2))
    total = round(sum(price for _, _, price in chosen), 2)
    purchase = {
        "id": hub.new_purchase_id(),
        "transaction_id": f"sandbox-{rng.randint(10**6, 10**7 - 1)}",
        "status": "paid",
        "email_address": subscriber.email_address,
        "currency": "USD",
        "transaction_time": iso(now),
        "subtotal": total,
        "shipping": 0.0,
        "discount": 0.0,
        "tax": 0.0,
        "total": total,
        "products": [
            {"unit_price": price, "quantity": 1, "sku": f"SKU-{pid}", "name": name}
            for pid, name, price in chosen
        ],
    }
    sent = {"purchase.purchase_create": 0, "subscriber.product_purchase": 0}
    sent["purchase.purchase_create"] = hub.emit(
        data.account_id, "purchase.purchase_create", None, purchase
    )
    for pid, _, _ in chosen:
        sent["subscriber.product_purchase"] += hub.emit(
            data.account_id,
            "subscriber.product_purchase",
            pid,
            {"subscriber": subscriber.to_api()},
        )
    return sent


def click_link(
    data: AccountData,
    hub: LegacyHub,
    link: str | None = None,
    email: str | None = None,
) -> dict[str, int]:
    """A subscriber clicks ``link`` in an email; else one of the links an
    app's rules follow for the account (so the activity page's "Click a link"
    reaches whatever link the app follows), else one of LINKS."""
    rng = random.Random(f"{data.account_id}-click-{len(hub.sent)}")  # noqa: S311
    subscriber = _subscriber(data, rng, email)
    if subscriber is None:
        raise ValueError("no such subscriber")
    with hub.lock:
        followed = sorted(
            {
                str(rule.param)
                for rule in hub.rules.values()
                if rule.account_id == data.account_id
                and rule.event == "subscriber.link_click"
            }
        )
    link = link or rng.choice(followed or LINKS)
    body = {"subscriber": subscriber.to_api()}
    return {
        "subscriber.link_click": hub.emit(
            data.account_id, "subscriber.link_click", link, body
        )
    }
