"""What a Kit account holds (subscribers, tags, forms...), and its API shapes.

Each record (``SubscriberRecord``, ``TagRecord``...: what Kit stores, hence the
suffix) keeps Python values (``datetime`` in UTC) and renders itself with
``to_api()`` in Kit's v4 shape: integer ids, dates as ``2023-07-17T16:48:20Z``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Every state a subscriber can be in, as ``GET /v4/subscribers?status=`` names
#: them. Only "inactive" (never confirmed) was never active.
SUBSCRIBER_STATES = ("active", "inactive", "bounced", "complained", "cancelled")
BROADCAST_STATUSES = ("draft", "scheduled", "sending", "completed", "aborted")


def iso(moment: datetime | None) -> str | None:
    """Kit's date format: UTC, whole seconds, ``Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SubscriberRecord:
    id: int
    first_name: str | None
    email_address: str
    state: str
    created_at: datetime
    #: Every custom field key of the account, None where unset (as Kit does).
    fields: dict[str, str | None]
    #: When a once-active subscriber stopped being one (cancelled, bounced,
    #: complained); growth stats count cancellations and totals from it.
    left_at: datetime | None = None

    @property
    def was_active(self) -> bool:
        return self.state != "inactive"

    def to_api(
        self, tagged_at: datetime | None = None, added_at: datetime | None = None
    ) -> dict[str, Any]:
        """The subscriber; ``tagged_at`` is added in a tag's subscriber list,
        ``added_at`` in a form's or a sequence's."""
        body: dict[str, Any] = {
            "id": self.id,
            "first_name": self.first_name,
            "email_address": self.email_address,
            "state": self.state,
            "created_at": iso(self.created_at),
        }
        if tagged_at is not None:
            body["tagged_at"] = iso(tagged_at)
        if added_at is not None:
            body["added_at"] = iso(added_at)
        body["fields"] = dict(self.fields)
        return body


@dataclass
class TagRecord:
    id: int
    name: str
    created_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": iso(self.created_at)}


@dataclass
class CustomFieldRecord:
    id: int
    key: str
    label: str

    def to_api(self) -> dict[str, Any]:
        # Kit's "name" is an internal handle built from the id and the key.
        return {
            "id": self.id,
            "name": f"ck_field_{self.id}_{self.key}",
            "key": self.key,
            "label": self.label,
        }


@dataclass
class FormRecord:
    """One of Kit's forms (``/v4/forms``): a sign-up form embedded on the
    creator's site, or a hosted landing page."""

    id: int
    name: str
    created_at: datetime
    type: str  # "embed" or "hosted"
    #: "inline", "modal" or "slide in" for embeds; None for hosted pages.
    format: str | None
    uid: str
    archived: bool
    #: The creator's form host, e.g. "adas-kitchen.kit.example". The reserved
    #: ``.example`` domain keeps demo links from pointing at real pages.
    host: str

    def to_api(self) -> dict[str, Any]:
        embed_url = f"https://{self.host}/{self.uid}"
        return {
            "id": self.id,
            "name": self.name,
            "created_at": iso(self.created_at),
            "type": self.type,
            "format": self.format,
            "embed_js": f"{embed_url}/index.js",
            "embed_url": embed_url,
            "archived": self.archived,
            "uid": self.uid,
        }


@dataclass
class SequenceRecord:
    id: int
    name: str
    hold: bool
    repeat: bool
    created_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "hold": self.hold,
            "repeat": self.repeat,
            "created_at": iso(self.created_at),
        }


@dataclass
class BroadcastStats:
    recipients: int = 0
    emails_opened: int = 0
    #: Recipients who clicked at least once (the click rate's numerator).
    emails_clicked: int = 0
    total_clicks: int = 0
    unsubscribes: int = 0
    progress: float = 0.0

    def to_api(self, status: str) -> dict[str, Any]:
        return {
            "recipients": self.recipients,
            "open_rate": self._rate(self.emails_opened),
            "emails_opened": self.emails_opened,
            "click_rate": self._rate(self.emails_clicked),
            "unsubscribe_rate": self._rate(self.unsubscribes),
            "unsubscribes": self.unsubscribes,
            "total_clicks": self.total_clicks,
            "show_total_clicks": self.total_clicks > 0,
            "status": status,
            "progress": self.progress,
        }

    def _rate(self, count: int) -> float:
        """A percentage of recipients, like Kit's 48.2 (not 0.482)."""
        return round(100 * count / self.recipients, 2) if self.recipients else 0.0


@dataclass
class BroadcastRecord:
    id: int
    publication_id: int
    created_at: datetime
    subject: str
    preview_text: str
    description: str
    content: str
    public: bool
    published_at: datetime | None
    send_at: datetime | None
    thumbnail_alt: str | None
    thumbnail_url: str | None
    email_address: str
    email_template: tuple[int, str]
    subscriber_filter: list[dict[str, Any]]
    status: str
    stats: BroadcastStats = field(default_factory=BroadcastStats)

    def to_api(self) -> dict[str, Any]:
        template_id, template_name = self.email_template
        return {
            "id": self.id,
            "publication_id": self.publication_id,
            "created_at": iso(self.created_at),
            "subject": self.subject,
            "preview_text": self.preview_text,
            "description": self.description,
            "content": self.content,
            "public": self.public,
            "published_at": iso(self.published_at),
            "send_at": iso(self.send_at),
            "thumbnail_alt": self.thumbnail_alt,
            "thumbnail_url": self.thumbnail_url,
            # The web version of a public broadcast (on a reserved domain here,
            # where Kit's is the creator's own page); None for the others.
            "public_url": self.public_url,
            "email_address": self.email_address,
            "email_template": {"id": template_id, "name": template_name},
            "subscriber_filter": self.subscriber_filter,
            "status": self.status,
        }

    def stats_to_api(self) -> dict[str, Any]:
        return {"broadcast": {"id": self.id, "stats": self.stats.to_api(self.status)}}

    def stats_item_to_api(self) -> dict[str, Any]:
        """One item of ``GET /v4/broadcasts/stats``: a summary and its stats."""
        return {
            "id": self.id,
            "subject": self.subject,
            "send_at": iso(self.send_at),
            "status": self.status,
            "published_at": iso(self.published_at),
            "stats": self.stats.to_api(self.status),
        }

    @property
    def public_url(self) -> str | None:
        if not self.public:
            return None
        slug = re.sub(r"[^a-z0-9]+", "-", self.subject.lower()).strip("-")
        return f"https://creator.example.com/posts/{slug or self.id}"

    @property
    def sent_at(self) -> datetime | None:
        """When it went (or goes) out: ``send_at``, else ``published_at``."""
        return self.send_at or self.published_at
