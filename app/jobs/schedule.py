"""The periodic jobs, run by the one `celery -A app.jobs.worker beat`.

Each entry names a task; each task is idempotent and safe to run twice at
once (the database decides what is left to do). Add a job here and it runs
everywhere beat runs.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

# The modules that define tasks; a worker imports them at start.
TASK_MODULES = (
    "app.jobs.token_refresh",
    "app.jobs.figures",
    "app.jobs.grant_revocation",
    "app.webhooks.tasks",
    "app.auth.tasks",
    "app.creator_data.tasks",
)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Proactive refresh: one task per connection that expires within 30 min.
    "refresh-due": {
        "task": "app.jobs.tokens.refresh_due",
        "schedule": 5 * 60.0,
        "kwargs": {"within_seconds": 30 * 60},
    },
    # Kit's finished days, kept locally: yesterday's figures, and any gap.
    "sync-figures": {
        "task": "app.jobs.figures.sync_figures",
        "schedule": crontab(minute=15),  # hourly: each account's "yesterday"
    },
    # Retries of the revocations of retired token pairs (app/kit/grants.py).
    "revoke-retired-grants": {
        "task": "app.jobs.grants.revoke_due_grants",
        "schedule": 5 * 60.0,
    },
    # Each connection's webhook endpoint at Kit: registered, enabled, there.
    "check-webhook-endpoints": {
        "task": "app.jobs.webhooks.check_webhook_endpoints",
        "schedule": crontab(minute=40),  # hourly
    },
    # Events older than WEBHOOK_EVENTS_KEPT_DAYS.
    "prune-webhook-events": {
        "task": "app.jobs.webhooks.prune_webhook_events",
        "schedule": crontab(hour=3, minute=30),  # daily
    },
    # Stored days older than the overview reads; the Kit data of connections
    # that lost their access RECONNECT_GRACE_DAYS ago (app/creator_data).
    "prune-growth-days": {
        "task": "app.creator_data.tasks.prune_growth_days",
        "schedule": crontab(hour=3, minute=40),  # daily
    },
    "forget-lost-access": {
        "task": "app.creator_data.tasks.forget_lost_access",
        "schedule": crontab(hour=3, minute=50),  # daily
    },
}
