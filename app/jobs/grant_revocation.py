"""Revoking the pairs the app stopped using (see `app.kit.grants`).

`revoke_grant` makes one attempt for one retired pair; it is queued right
after the pair is retired. Beat's "revoke-retired-grants" runs
`revoke_due_grants`, which queues again every pair whose next attempt is due:
the retries, and any pair whose first message was lost (or that was retired
while the jobs ran in-process). Only row ids go through the broker.

Both are safe twice and at once: Kit's revoke is idempotent, and a pair is
deleted only once it is revoked.
"""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app.jobs import enqueue
from app.kit import grants


@shared_task(name="app.jobs.grants.revoke_grant")
def revoke_grant(retired_id: int) -> grants.Outcome:
    """One attempt at revoking retired pair `retired_id` at Kit; returns the
    outcome (`revoked`, `retry`, `gave_up` or `gone`). Never raises for Kit
    being unavailable: the attempt is recorded and the sweep retries."""
    return grants.revoke_retired(retired_id, current_app.extensions["kit_settings"])


@shared_task(name="app.jobs.grants.revoke_due_grants")
def revoke_due_grants(batch_size: int = 200) -> int:
    """Queue a `revoke_grant` for every retired pair that is due; returns how
    many. Each claimed pair is leased first, so the loop ends even when the
    attempts run here and fail."""
    queued = 0
    while ids := grants.claim_due(batch_size):
        for retired_id in ids:
            enqueue(revoke_grant, retired_id)
        queued += len(ids)
    return queued
