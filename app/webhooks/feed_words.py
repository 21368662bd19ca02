"""The activity feed's words: Kit's event types (KIT_PLATFORM.md 5a) in plain
words, and the filter's labels. `app.webhooks.feed` re-exports them."""

from __future__ import annotations

# Kit's event types (KIT_PLATFORM.md 5a). Events about a subscriber read after
# their email ("ada@example.com joined"): the filter's label, then the words
# with the related form/tag/sequence name, then without one.
SUBSCRIBER_EVENTS: dict[str, tuple[str, str, str]] = {
    "subscriber.created": ("New subscribers", "joined", "joined"),
    "subscriber.activated": (
        "Confirmed",
        "confirmed their subscription",
        "confirmed their subscription",
    ),
    "subscriber.unsubscribed": ("Unsubscribed", "unsubscribed", "unsubscribed"),
    "subscriber.bounced": ("Bounced", "bounced", "bounced"),
    "subscriber.complained": (
        "Spam complaints",
        "marked your email as spam",
        "marked your email as spam",
    ),
    "subscriber.subscribed_to_form": (
        "Form subscriptions",
        "subscribed through form «{}»",
        "subscribed through a form",
    ),
    "subscriber.added_to_sequence": (
        "Added to a sequence",
        "was added to sequence «{}»",
        "was added to a sequence",
    ),
    "subscriber.sequence_completed": (
        "Sequence completed",
        "completed sequence «{}»",
        "completed a sequence",
    ),
    "subscriber.tag_added": ("Tagged", "was tagged «{}»", "was tagged"),
    "subscriber.tag_removed": ("Untagged", "was untagged «{}»", "was untagged"),
}
# The events the app subscribes to at Kit (tasks.py registers them): the
# subscriber events above, the ones the feed has words for.
EVENTS = tuple(SUBSCRIBER_EVENTS)
# What only Kit's legacy webhooks carry (`app.webhooks.legacy`), under Kit's
# legacy names. The subject: the products and total, the product, the link.
LEGACY_EVENTS: dict[str, tuple[str, str, str]] = {
    "purchase.purchase_create": ("Purchases", "bought «{}»", "made a purchase"),
    "subscriber.product_purchase": (
        "Product purchases",
        "bought «{}»",
        "bought a product",
    ),
    "subscriber.link_click": ("Link clicks", "clicked «{}»", "clicked a link"),
}
# The others are sentences of their own: "Tag «Buyers» was created".
OTHER_EVENTS = [
    f"{thing}.{action}"
    for thing, actions in [
        ("tag", ["created", "deleted"]),
        ("sequence", ["created", "deleted", "published", "disabled"]),
        ("broadcast", ["created", "sent", "deleted"]),
        ("post", ["published"]),
        ("custom_field", ["created", "deleted"]),
    ]
    for action in actions
]


def _sentences(event_type: str) -> tuple[str, str, str]:
    thing, action = event_type.split(".")
    noun = thing.replace("_", " ")
    return (
        f"{noun.capitalize()} {action}",
        f"{noun.capitalize()} «{{}}» was {action}",
        f"A {noun} was {action}",
    )


TYPES = (
    SUBSCRIBER_EVENTS
    | LEGACY_EVENTS
    | {name: _sentences(name) for name in OTHER_EVENTS}
)
FILTERS = [(name, label) for name, (label, _, _) in TYPES.items()]


def words(event_type: str, subject: str, email: str = "") -> str:
    """The event in plain words, after the subscriber's email when there is one."""
    known = TYPES.get(event_type)
    if known is None:
        # A type Kit added after this code was written: say what it is called.
        name = f"“{event_type}”"
        return f"had an event Kit calls {name}" if email else f"Kit sent {name}"
    _, with_subject, without = known
    return with_subject.format(subject) if subject else without
