"""Demo broadcasts and their stats, for ``account_data.py``.

Sent broadcasts go out every 6 days, the last one 2 days ago, so a dashboard's
7, 30 and 90-day windows all hold some (20 sends span ~116 days); their
recipients are the account's active subscribers on the day (from the growth
ledger), so the numbers on a dashboard hang together.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from html import escape

from ..audience import AccountData, slot
from ..records import BroadcastRecord, BroadcastStats

EMAIL_TEMPLATE = (6, "Text Only")  # Kit's default template
SEND_EVERY_DAYS = 6
LAST_SENT_DAYS_AGO = 2


def add_broadcasts(
    data: AccountData,
    rng: random.Random,
    now: datetime,
    sender: str,
    subjects: tuple[tuple[str, str], ...],
    statuses: list[str],
) -> None:
    """Broadcasts oldest first; sent ones every 6 days, up to 2 days ago."""
    sends_back = sum(1 for s in statuses if s in ("completed", "aborted")) - 1
    # The unsent ones were created in the last few days, 10 hours apart.
    hours_back = 10 * (len(statuses) - sends_back - 1)
    # Only a tag somebody carries makes a plausible audience.
    tag_ids = [tag_id for tag_id, tagged in data.taggings.items() if tagged]
    for (subject, preview), status in zip(subjects, statuses, strict=True):
        send_at: datetime | None
        if status in ("completed", "aborted"):
            days_ago = LAST_SENT_DAYS_AGO + SEND_EVERY_DAYS * sends_back
            send_at = now - timedelta(days=days_ago, hours=rng.randint(0, 20))
            sends_back -= 1
            created_at = send_at - timedelta(days=rng.randint(1, 4))
        else:
            created_at = now - timedelta(hours=hours_back)
            hours_back -= 10
            send_at = {
                "sending": now - timedelta(minutes=20),
                "scheduled": now + timedelta(days=rng.randint(2, 12)),
                "draft": None,
            }[status]
        public = status == "completed" and rng.random() < 0.8
        # A few sends went to one tag only; the rest to everybody.
        targeted = status != "draft" and tag_ids and rng.random() < 0.15
        audience = (
            {"type": "tag", "ids": [rng.choice(tag_ids)]}
            if targeted
            else {"type": "all_subscribers"}
        )
        broadcast_id = data.ids.next("broadcast")
        data.broadcasts[broadcast_id] = BroadcastRecord(
            id=broadcast_id,
            publication_id=data.ids.next("publication"),
            created_at=created_at.replace(microsecond=0),
            subject=subject,
            preview_text=preview,
            description=f"{subject} ({status})",
            content=_content(broadcast_id, subject, preview, sender),
            public=public,
            published_at=send_at if public else None,
            send_at=send_at,
            thumbnail_alt=subject if public else None,
            thumbnail_url=(
                f"https://images.example/broadcasts/{broadcast_id}.jpg"
                if public
                else None
            ),
            email_address=sender,
            email_template=EMAIL_TEMPLATE,
            subscriber_filter=[{"all": [audience]}],
            status=status,
            stats=_stats(data, rng, status, send_at, targeted=bool(targeted)),
        )


def _content(broadcast_id: int, subject: str, preview: str, sender: str) -> str:
    """The email's HTML: a greeting, the preview, an image and two links (so
    a broadcast has link clicks, and a preview has an image to hold back)."""
    site = sender.split("@")[0] + ".kit.example"
    return (
        f"<p>Hi {{{{ subscriber.first_name }}}},</p><p>{escape(preview)}</p>"
        f'<p><img src="https://images.example/broadcasts/{broadcast_id}.jpg"'
        f' alt="{escape(subject)}" width="600"></p>'
        f'<p><a href="https://{site}/posts/{broadcast_id}">Read it on the site</a>'
        f' or <a href="https://{site}/shop">visit the shop</a>.</p>'
    )


def _stats(
    data: AccountData,
    rng: random.Random,
    status: str,
    send_at: datetime | None,
    *,
    targeted: bool,
) -> BroadcastStats:
    """Plausible results: 30-60 % opens, 1-10 % clicks, a few unsubscribes."""
    if status in ("draft", "scheduled") or send_at is None:
        return BroadcastStats()
    audience = data.growth.active_before(slot(send_at))
    recipients = round(audience * (rng.uniform(0.15, 0.35) if targeted else 1))
    progress = {"completed": 100.0, "sending": 62.5, "aborted": 37.5}[status]
    delivered = round(recipients * progress / 100)
    clicked = round(delivered * rng.uniform(0.01, 0.10))
    return BroadcastStats(
        recipients=recipients,
        emails_opened=round(delivered * rng.uniform(0.30, 0.60)),
        emails_clicked=clicked,
        total_clicks=clicked + rng.randint(0, clicked),
        unsubscribes=round(delivered * rng.uniform(0.0005, 0.004)),
        progress=progress,
    )
