"""The jobs in a real `celery -A app.jobs.worker worker`, with a real
redis-server as broker and result backend (skipped where redis-server is not
installed; .ci/run installs Debian's), against this test's database and the
Kit sandbox.

The worker runs one prefork child, so a test can kill the process running a
task: with acks_late and reject_on_worker_lost the message goes back to the
queue, and the task runs again in the child that replaces it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from app.kit.locking import locked_connection
from app.models import ConnectionEvent
from tests.support.grants import spent_refresh_tokens
from tests.support.installing import install
from tests.support.rows import event_kinds, set_expiry, stored
from tests.support.settings import app_settings

ROOT = Path(__file__).resolve().parent.parent
REFRESH_CONNECTION = "app.jobs.tokens.refresh_connection"
TIMEOUT = 60  # seconds; generous, for a loaded 2-core machine
# The settings a deployment gives the worker in its environment.
ENVIRONMENT = (
    "APP_ENV",
    "SECRET_KEY",
    "TOKEN_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "KIT_CLIENT_ID",
    "KIT_CLIENT_SECRET",
    "KIT_APP_URL",
    "KIT_API_URL",
    "KIT_HTTP_TIMEOUT",
    "REDIS_URL",
)


@dataclass
class Worker:
    """A running worker, and the app (with REDIS_URL) that sends it tasks."""

    app: Flask
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def inspect(self, what: str) -> Any:
        """`celery inspect <what>` of this worker: its answer, or None."""
        inspector = self.app.extensions["celery"].control.inspect(
            destination=[self.name], timeout=1
        )
        return (getattr(inspector, what)() or {}).get(self.name)

    def until(self, condition: Callable[[], Any], what: str) -> Any:
        """Poll `condition` until it returns something true; fail with the
        worker's log if the worker exits or TIMEOUT passes first."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited before {what}:\n{self.output()}")
            found = condition()
            if found:
                return found
            time.sleep(0.1)
        pytest.fail(f"No {what} within {TIMEOUT} s:\n{self.output()}")


@pytest.fixture
def worker(app, make_app, kit, database_url, redis_url, tmp_path) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    with redis.Redis.from_url(redis_url) as store:
        store.flushdb()
    settings = app_settings(kit, database_url, REDIS_URL=redis_url)
    environ = {name: str(settings[name]) for name in ENVIRONMENT}
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "app.jobs.worker", "worker"]
            + ["--pool=prefork", "--concurrency=1", "--loglevel=INFO"]
            + ["--without-gossip", "--without-mingle", f"--hostname={name}"],
            cwd=ROOT,
            env=os.environ | environ | {"LOG_LEVEL": "WARNING"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: see _stop
        )
    try:
        started = Worker(make_app(REDIS_URL=redis_url), name, process, log)
        # The Celery made last is this thread's current one, where a shared
        # task called as `task.delay()` goes (the install queues a backfill so):
        # make it the test app's again (eager), so that only what a test sends
        # through `worker.app`'s Celery reaches the worker.
        app.extensions["celery"].set_current()
        started.until(lambda: started.inspect("ping"), "answer to a ping")
        yield started
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown; then kill whatever is left of its process group."""
    process.terminate()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _dead(pid: int) -> bool:
    """Gone, or a zombie its parent has yet to reap."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.fixture
def due(app, client, kit_browser, user) -> str:  # type: ignore[no-untyped-def]
    """Connection 1, installed and due within 30 minutes; its refresh token."""
    install(client, kit_browser)
    set_expiry(app, 1, minutes=5)
    return stored(app).refresh_token


def _refresh(worker: Worker, connection_id: int = 1):  # type: ignore[no-untyped-def]
    """Send `refresh_connection` the way the app does: through its own Celery."""
    with worker.app.app_context():
        task = worker.app.extensions["celery"].tasks[REFRESH_CONNECTION]
        return task.delay(connection_id, 30 * 60)


def test_a_task_sent_by_the_app_runs_in_the_worker(app, kit, worker, due):
    assert _refresh(worker).get(timeout=TIMEOUT) == "refreshed"
    assert spent_refresh_tokens(kit) == [due]
    assert stored(app).refresh_token != due
    # And every periodic job names a task the worker knows.
    registered = set(worker.inspect("registered"))
    schedule = worker.app.extensions["celery"].conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} <= registered


def test_refresh_due_command_waits_for_the_workers(
    app, client, kit, kit_browser, user, worker
):
    for account in sorted(kit.state.accounts):
        install(client, kit_browser, account=account)
    set_expiry(app, None, minutes=5)
    before = [stored(app, i).refresh_token for i in (1, 2, 3)]

    result = worker.app.test_cli_runner().invoke(
        args=["kit", "refresh-due", "--within", "30m"]
    )
    assert result.exit_code == 0, result.output + worker.output()
    assert "due 3: refreshed 3, already fresh 0, needs reconnect 0, failed 0" in (
        result.output
    )
    assert sorted(spent_refresh_tokens(kit)) == sorted(before)
    assert "app.jobs.tokens.refresh_connection" in worker.output()  # ran there


def test_a_worker_killed_mid_task_loses_no_job(app, kit, worker, due):
    """The test holds the connection's row lock, so the task waits in
    `refresh_locked` before it can call Kit; its process is killed there.
    (Killed after the call, the refresh token would be spent at Kit either way.)"""
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with app.app_context(), locked_connection(1):
            holding.set()
            release.wait(TIMEOUT)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(TIMEOUT)
        result = _refresh(worker)
        [running] = worker.until(lambda: worker.inspect("active"), "task started")
        assert running["id"] == result.id
        child = running["worker_pid"]
        os.kill(child, signal.SIGKILL)
        worker.until(lambda: _dead(child), "death of the killed child")
    finally:
        release.set()
        holder.join(TIMEOUT)

    assert result.get(timeout=TIMEOUT) == "refreshed"
    assert f"pid:{child} exited with 'signal 9 (SIGKILL)'" in worker.output()
    assert spent_refresh_tokens(kit) == [due]  # once, by the second run
    assert stored(app).refresh_token != due
    assert event_kinds(app).count(ConnectionEvent.REFRESHED) == 1


def test_beat_schedules_the_periodic_jobs_with_registered_tasks(app):
    """What `celery -A app.jobs.worker beat` sends: each entry names a task
    that exists once the worker has imported the task modules."""
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()  # TASK_MODULES, as a worker does
    schedule = celery.conf.beat_schedule
    assert {"refresh-due", "sync-figures"} <= set(schedule)
    for name, entry in schedule.items():
        assert entry["task"] in celery.tasks, name
