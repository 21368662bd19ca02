"""Account mail sent by a real Celery worker, with Redis as broker and as the
rate limit store shared by the app and the worker (skipped where
redis-server is not installed): the request only queues; the worker looks the
account up, counts the recipient's cap in Redis and builds the links on the
configured origin, outside any request."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.support.accounts import PASSWORD, create_user, outbox
from tests.support.settings import app_settings
from tests.test_celery_worker import ENVIRONMENT, ROOT, Worker, _stop

ORIGIN = "https://app.example.com"
MAIL_SETTINGS = ("PUBLIC_BASE_URL", "MAIL_SERVER", "MAIL_PORT")


@pytest.fixture
def mail_worker(
    app, make_app, kit, database_url, redis_url, tmp_path
) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    with redis.Redis.from_url(redis_url) as store:
        store.flushdb()
    settings = app_settings(
        kit, database_url, REDIS_URL=redis_url, PUBLIC_BASE_URL=ORIGIN
    )
    environ = {name: str(settings[name]) for name in ENVIRONMENT + MAIL_SETTINGS}
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "app.jobs.worker", "worker"]
            + ["--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
            + [f"--hostname={name}"],
            cwd=ROOT,
            env=os.environ | environ | {"LOG_LEVEL": "INFO"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        started = Worker(
            make_app(
                REDIS_URL=redis_url, PUBLIC_BASE_URL=ORIGIN, RATELIMIT_ENABLED=True
            ),
            name,
            process,
            log,
        )
        app.extensions["celery"].set_current()
        started.until(lambda: started.inspect("ping"), "answer to a ping")
        yield started
    finally:
        _stop(process)


def _client(worker: Worker, n: int):  # type: ignore[no-untyped-def]
    client = worker.app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.0.{n}"
    return client


def test_the_worker_sends_account_mail_with_the_shared_cap(mail_worker):
    app = mail_worker.app
    create_user(app, "owner@example.com")
    create_user(app, "last@example.com")
    answers = set()
    for n, email in enumerate(["owner@example.com"] * 5 + ["nobody@example.com"]):
        answer = _client(mail_worker, n).post("/forgot-password", data={"email": email})
        answers.add((answer.status_code, answer.location))
    assert answers == {(302, "/signup/check-inbox")}

    # Ten wrong passwords from ten addresses: the eleventh attempt is paused
    # (counted in Redis), and the worker mails the owner one notice.
    codes = [
        _client(mail_worker, 100 + n)
        .post("/login", data={"email": "owner@example.com", "password": "wrong"})
        .status_code
        for n in range(11)
    ]
    assert codes == [400] * 10 + [429]

    # One queue, one worker: once the last request's mail is there, all are.
    _client(mail_worker, 50).post(
        "/forgot-password", data={"email": "last@example.com"}
    )
    mail_worker.until(lambda: outbox(app, "last@example.com"), "the last mail")
    to_owner = outbox(app, "owner@example.com")
    subjects = [m["subject"] for m in to_owner]
    assert sum(s.startswith("Reset your") for s in subjects) == 3  # the cap
    assert sum(s.startswith("Someone tried to sign in") for s in subjects) == 1
    for mail in to_owner:
        assert PASSWORD not in mail["text"]
        assert all(link.startswith(ORIGIN + "/") for link in mail["links"])
    assert outbox(app, "nobody@example.com") == []
    assert "app.auth.tasks.send_account_mail" in mail_worker.output()
