"""Background jobs on Celery, the Flask way (Flask's "Background Tasks with
Celery"): every task runs inside an app context.

With `REDIS_URL`, Redis is the broker and the result backend, and tasks run in
`celery -A app.jobs.worker worker` processes (plus one `celery -A
app.jobs.worker beat` for the periodic ones). Without it, tasks run in-process
as they are called (eager), so `make run` and `make test` need nothing more.

A job never holds the only copy of anything: it reads its work from the
database and writes its result there, so running one twice, or two at once,
is safe. And so a job that could not be queued is not lost either: every
task a request queues (`enqueue`) is also found by a periodic sweep.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app, has_app_context

from app.extensions import db
from app.jobs.schedule import BEAT_SCHEDULE, TASK_MODULES
from app.redis_store import Breaker

log = logging.getLogger(__name__)
BREAKER = "celery_breaker"


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            # Eager tasks called from a request or a command run in the
            # caller's app context; a worker's run in its own app's.
            if has_app_context():
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.imports = TASK_MODULES
    celery_app.conf.beat_schedule = BEAT_SCHEDULE
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    app.extensions[BREAKER] = Breaker()
    return celery_app


def on_this_app(task: Task) -> Task:
    """`task` on the Celery of the Flask app in context. A shared task sends to
    the Celery created last in the process: the same one in production (one
    app per process), but not in a process that built several (the tests)."""
    return current_app.extensions["celery"].tasks[task.name]


def enqueue(task: Task, *args: Any, about: str = "", **kwargs: Any) -> bool:
    """Queue `task` (on this app's Celery) after the caller's work committed;
    False, logged (as `about`, say "the backfill of connection 3"), if it
    could not be.

    Never raises: the request's work is done, and the task's work is found
    again by its periodic sweep (backfill: `sync_figures`; webhook endpoint:
    `check_webhook_endpoints`; revocation: `revoke_due_grants`). With the
    broker down, sends stop for a few seconds after a failure (`Breaker`),
    so a frozen Redis costs one short timeout, not one per request. Eager
    (no REDIS_URL) the task runs here: its failure is logged the same way.
    """
    breaker: Breaker = current_app.extensions[BREAKER]
    eager = current_app.extensions["celery"].conf.task_always_eager
    if not eager and not breaker.closed:
        log.warning("Could not queue %s: broker unreachable", about or task.name)
        return False
    try:
        on_this_app(task).delay(*args, **kwargs)
    except Exception:
        # Eager, the task shared this session: leave it clean for the caller.
        db.session.rollback()
        if not eager:
            breaker.trip()
        log.exception("Could not queue %s; its periodic sweep will", about or task.name)
        return False
    return True
