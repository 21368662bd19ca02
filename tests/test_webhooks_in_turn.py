"""On SQLite, deliveries are written in turn, by every process of the app
(app/webhooks/transaction.py): a writer waits on the lock file beside the
database, not in SQLite's growing sleeps, and starts as soon as it is free.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from app.extensions import db
from app.webhooks.transaction import lock_path
from tests.support.rows import add_connection
from tests.support.webhooks import (
    add_endpoint,
    delivery_body,
    kit_event,
    kit_signature,
    stored_events,
)

SECRET = "whsec-in-turn"

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def sqlite_app(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the lock file is SQLite's; PostgreSQL locks rows")
    if sys.platform == "win32":
        pytest.skip("flock is POSIX")
    return app


def test_a_delivery_waits_for_another_processs_write_then_is_stored(sqlite_app):
    app = sqlite_app
    add_connection(app)
    key = add_endpoint(app, 1, SECRET)
    with app.app_context():
        path = lock_path(db.engine)
    assert path is not None
    body = delivery_body([kit_event(email=f"t{n}@example.com") for n in range(3)])
    headers = {"X-Kit-Signature": kit_signature(body, [SECRET])}

    holder = subprocess.Popen(  # noqa: S603 (this interpreter, our script)
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    answers = []
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        sender = threading.Thread(
            target=lambda: answers.append(
                app.test_client().post(
                    f"/webhooks/kit/{key}",
                    data=body,
                    headers=headers,
                    content_type="application/json",
                )
            )
        )
        sender.start()
        sender.join(timeout=1.0)
        # Another process is writing: the delivery waits its turn, unstored.
        assert sender.is_alive()
        assert stored_events(app) == []
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # the other process ends; the kernel frees its lock
        holder.wait(timeout=10)
        assert holder.stdout is not None
        holder.stdout.close()
    sender.join(timeout=30)
    assert not sender.is_alive()
    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json == {"received": 3, "stored": 3}
    assert len(stored_events(app)) == 3
