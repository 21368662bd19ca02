"""Demo broadcasts and their stats, for ``account_data.py``.

Sent broadcasts go out weekly up to a week ago; their recipients are the
account's active subscribers on the day (from the growth ledger), so the
numbers on a dashboard hang together.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ..audience import AccountData
from ..records import BroadcastRecord, BroadcastStats

EMAIL_TEMPLATE = (6, "Text Only")  # Kit's default template


def add_broadcasts(
    data: AccountData,
    rng: random.Random,
    now: datetime,
    sender: str,
    subjects: tuple[tuple[str, str], ...],
    statuses: list[str],
) -> None:
    """Broadcasts oldest first; sent ones weekly, up to the week before now."""
    weeks_back = sum(1 for s in statuses if s in ("completed", "aborted"))
    # The unsent ones were created in the last few days, 10 hours apart.
    hours_back = 10 * (len(statuses) - weeks_back)
    tag_ids = list(data.tags)
    for (subject, preview), status in zip(subjects, statuses, strict=True):
        send_at: datetime | None
        if status in ("completed", "aborted"):
            send_at = now - timedelta(weeks=weeks_back, hours=rng.randint(0, 48))
            weeks_back -= 1
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
            content=f"<p>Hi {{{{ subscriber.first_name }}}},</p><p>{preview}</p>",
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


def _stats(
    data: AccountData,
    rng: random.Random,
    status: str,
    send_at: datetime | None,
    *,
    targeted: bool,
) -> BroadcastStats:
    """Plausible results: 38-56 % opens, 2-9 % clicks, a few unsubscribes."""
    if status in ("draft", "scheduled") or send_at is None:
        return BroadcastStats()
    audience = data.growth.active_on(send_at.date())
    recipients = round(audience * (rng.uniform(0.15, 0.35) if targeted else 1))
    progress = {"completed": 100.0, "sending": 62.5, "aborted": 37.5}[status]
    delivered = round(recipients * progress / 100)
    clicked = round(delivered * rng.uniform(0.02, 0.09))
    return BroadcastStats(
        recipients=recipients,
        emails_opened=round(delivered * rng.uniform(0.38, 0.56)),
        emails_clicked=clicked,
        total_clicks=clicked + rng.randint(0, clicked),
        unsubscribes=round(delivered * rng.uniform(0.0005, 0.004)),
        progress=progress,
    )
