"""Token jobs: the proactive refresh, one task per due connection.

Beat's "refresh-due" (every 5 minutes) and `flask --app app kit refresh-due`
share one fan-out, `enqueue_due_refreshes`: it pages the due connections and
enqueues a `refresh_connection` for each, so the refreshes spread over every
worker. The job only enqueues; the command also waits for the outcomes and
prints them.

Both tasks are safe to run twice, and at once: a refresh happens only under
the connection's refresh claim, taken after re-reading the row, so each expiry
spends the refresh token once and a duplicate task finds the token `fresh`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from celery import group, shared_task
from celery.result import GroupResult
from flask import current_app

from app.jobs import on_this_app
from app.kit import pairs
from app.kit import refresh_due as sweep


@shared_task(name="app.jobs.tokens.refresh_connection", ignore_result=False)
def refresh_connection(connection_id: int, within_seconds: int) -> sweep.Outcome:
    """Refresh one connection unless it is valid for more than `within_seconds`;
    returns the outcome (see `app.kit.refresh_due.refresh_connection`)."""
    return sweep.refresh_connection(
        connection_id,
        current_app.extensions["kit_settings"],
        timedelta(seconds=within_seconds),
    )


@shared_task(name="app.jobs.tokens.refresh_due")
def refresh_due(within_seconds: int, batch_size: int = 200) -> int:
    """Enqueue a refresh of every connection that expires within
    `within_seconds`; returns how many. Does not wait for them.

    First it writes the token pairs kept on disk while the database refused
    them (`app.kit.pairs`): they are newer than the stored ones, whose refresh
    tokens Kit has already killed."""
    pairs.replay_all()
    return sum(
        len(page)
        for page in enqueue_due_refreshes(within_seconds, batch_size, report=False)
    )


def enqueue_due_refreshes(
    within_seconds: int, batch_size: int, *, report: bool
) -> Iterator[GroupResult]:
    """Enqueue one `refresh_connection` per due connection, as a group per page
    of due ids; yield each page's results.

    With `report`, each outcome is kept in the result backend for the caller to
    wait on; without, nothing is stored. Eager (no REDIS_URL), the tasks run
    here as they are enqueued.
    """
    task = on_this_app(refresh_connection)
    within = timedelta(seconds=within_seconds)
    for ids in sweep.due_batches(within, batch_size):
        tasks = group(task.s(connection_id, within_seconds) for connection_id in ids)
        yield tasks.apply_async(ignore_result=not report)
