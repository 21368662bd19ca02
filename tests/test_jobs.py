"""The token jobs, in-process (no REDIS_URL: eager, or on the in-memory broker).

`refresh-due` fans out one `refresh_connection` per due connection; run twice
at once, it still spends each refresh token once. tests/test_celery_worker.py
runs the same tasks in a real worker.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from celery import signals

from app.jobs.token_refresh import enqueue_due_refreshes
from app.models import ConnectionEvent, KitConnection
from tests.support.grants import spent_refresh_tokens
from tests.support.installing import connect
from tests.support.rows import event_kinds, set_expiry, stored

REFRESH_DUE = "app.jobs.tokens.refresh_due"
REFRESH_CONNECTION = "app.jobs.tokens.refresh_connection"


@pytest.fixture
def due(app, kit, user) -> list[int]:  # type: ignore[no-untyped-def]
    """One connection per demo account (real grants, made without the consent
    round trip), each due within 30 minutes; the ids."""
    for account in sorted(kit.state.accounts):
        connect(app, kit, account=account)
    ids = list(range(1, len(kit.state.accounts) + 1))
    for minutes, connection_id in enumerate(ids, start=5):
        set_expiry(app, connection_id, minutes=minutes)
    return ids


def test_refresh_due_enqueues_one_refresh_per_due_connection_and_does_not_wait(
    app, kit, due
):
    connect(app, kit, account=min(kit.state.accounts), tenant_name="Shop")
    set_expiry(app, 4, minutes=120)  # not due
    set_expiry(app, 3, minutes=5, status=KitConnection.NEEDS_RECONNECT)
    celery = app.extensions["celery"]
    # As with Redis: tasks go to the broker (in memory here), and nothing runs them.
    celery.conf.task_always_eager = False
    published: list[dict[str, Any]] = []

    def publishing(sender: str, headers: dict[str, Any], body: Any, **_: Any) -> None:
        published.append({"task": sender, "args": body[0], **headers})

    signals.before_task_publish.connect(publishing)
    try:
        with app.app_context():
            enqueued = celery.tasks[REFRESH_DUE](within_seconds=1800, batch_size=1)
    finally:
        signals.before_task_publish.disconnect(publishing)
        with celery.connection_for_write() as connection:
            connection.default_channel.queue_purge("celery")

    assert enqueued == 2
    assert [(m["task"], m["args"]) for m in published] == [
        (REFRESH_CONNECTION, (1, 1800)),
        (REFRESH_CONNECTION, (2, 1800)),
    ]
    assert all(m["ignore_result"] for m in published)  # nobody waits on them
    assert kit.state.stats()["refresh_requests"] == 0


def test_refresh_connection_reports_each_outcome(app, kit, due):
    task = app.extensions["celery"].tasks[REFRESH_CONNECTION]
    kit.state.add_fault("token", "500")
    set_expiry(app, 3, minutes=5, status=KitConnection.NEEDS_RECONNECT)
    with app.app_context():
        outcomes = [task.delay(i, 1800).get() for i in (1, 1, 1, 3)]
    assert outcomes == ["failed", "refreshed", "fresh", "needs_reconnect"]
    assert event_kinds(app, 1)[-2:] == [
        ConnectionEvent.REFRESH_FAILED,
        ConnectionEvent.REFRESHED,
    ]


def test_two_refresh_due_jobs_at_once_spend_each_refresh_token_once(app, kit, due):
    before = {i: stored(app, i).refresh_token for i in due}
    kit.config.latency_ms = 100  # both runs find every connection due
    start = threading.Barrier(2)
    job = app.extensions["celery"].tasks[REFRESH_DUE]

    def run(_: int) -> int:
        with app.app_context():
            start.wait()
            # apply(): in this process, as a worker would. (Eager apply_async
            # flips Celery's process-wide "no .get() here" flag: two threads at
            # once can leave it set.)
            return int(job.apply(kwargs={"within_seconds": 1800}).get())

    with ThreadPoolExecutor(2) as pool:
        enqueued = list(pool.map(run, range(2)))

    assert len(due) <= sum(enqueued) <= 2 * len(due)
    assert sorted(spent_refresh_tokens(kit)) == sorted(before.values())
    for connection_id in due:
        assert stored(app, connection_id).refresh_token != before[connection_id]
        assert event_kinds(app, connection_id).count(ConnectionEvent.REFRESHED) == 1


def test_the_fan_out_reports_who_refreshed_and_who_found_it_fresh(app, kit, due):
    """What `flask kit refresh-due` waits on: one outcome per task."""
    kit.config.latency_ms = 100
    start = threading.Barrier(2)

    def run(_: int) -> list[str]:
        with app.app_context():
            start.wait()
            pages = list(enqueue_due_refreshes(1800, 2, report=True))
            return [outcome for page in pages for outcome in page.get()]

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(run, range(2))
    outcomes = first + second
    assert outcomes.count("refreshed") == len(due)
    assert set(outcomes) <= {"refreshed", "fresh"}
    assert kit.state.stats()["refresh_requests"] == len(due)
