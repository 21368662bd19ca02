"""The transaction a delivery is stored in: it holds the write lock from its
first statement, so the liveness check and the insert commit together.

On PostgreSQL one statement does the whole write (`store_in_one_statement`),
in the request's own transaction. On SQLite `BEGIN IMMEDIATE`, taken in
turn: deliveries arrive in bursts (Kit sends several at once, and retries
them together), and SQLite's own wait for
the write lock is a sleep that grows (1, 2, 5, 10 ... 100 ms) whether or not
the lock came free meanwhile, so four writers at once made a 20 ms delivery
wait ~200 ms. Here the writers of every process queue on an advisory file lock
beside the database (`flock`, released by the kernel when a process dies), and
the next one starts the moment the last commits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from app.extensions import db
from app.models import KitConnection, WebhookEndpoint

try:
    import fcntl
except ImportError:  # not a POSIX system: SQLite's own wait does the job
    fcntl = None  # type: ignore[assignment]


@contextmanager
def write_transaction() -> Iterator[Connection]:
    """The write's transaction, committed on leaving, rolled back on error."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        # The request's own transaction, which read the endpoint: one
        # connection from the pool and one COMMIT a delivery, round trips
        # being most of a delivery's time on PostgreSQL.
        try:
            yield db.session.connection()
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return
    db.session.commit()  # nothing of the session's is held while we wait
    with _in_turn(engine), engine.connect() as raw:
        # Autocommit at the driver, so that our BEGIN IMMEDIATE is the transaction.
        raw = raw.execution_options(isolation_level="AUTOCOMMIT")
        raw.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield raw
        except BaseException:
            raw.exec_driver_sql("ROLLBACK")
            raise
        raw.exec_driver_sql("COMMIT")


# The liveness check, the insert and the note of the delivery in one round
# trip. `live` takes FOR SHARE of the connection's row: a disconnect (which
# revokes under FOR UPDATE of that row, then forgets the events) either
# commits first, and `live` is empty so nothing is inserted, or waits until
# these events are in and deletes them with the rest. The events come as one
# array per column (`unnest`): the same statement text for 1 or 100 events,
# which psycopg prepares once, and six parameters instead of 900.
_STORE_ON_POSTGRESQL = text("""
WITH live AS (
    SELECT 1 FROM kit_connections c
    JOIN webhook_endpoints e ON e.connection_id = c.id
    WHERE e.id = :endpoint_id AND c.id = :connection_id
      AND c.status <> :revoked AND e.status <> :gone
    FOR SHARE OF c
), new AS (
    INSERT INTO webhook_events (connection_id, event_id, delivery_id, type,
        occurred_at, received_at, subscriber_email, subject, data)
    SELECT :connection_id, v.event_id, :delivery_id, v.type,
        v.occurred_at, :received_at, v.email, v.subject, v.data
    FROM unnest(CAST(:event_ids AS varchar[]), CAST(:types AS varchar[]),
        CAST(:occurred AS timestamptz[]), CAST(:emails AS varchar[]),
        CAST(:subjects AS varchar[]), CAST(:data AS text[]))
        AS v(event_id, type, occurred_at, email, subject, data)
    WHERE EXISTS (SELECT 1 FROM live)
    ON CONFLICT (connection_id, event_id) DO NOTHING
    RETURNING 1
), noted AS (
    UPDATE webhook_endpoints
    SET last_delivery_at = :received_at, updated_at = :received_at
    WHERE id = :endpoint_id AND :note AND EXISTS (SELECT 1 FROM live)
    RETURNING 1
)
SELECT (SELECT count(*) FROM live), (SELECT count(*) FROM new)
""")


def store_in_one_statement(
    endpoint_id: int,
    connection_id: int,
    delivery_id: int,
    rows: list[dict[str, Any]],
    now: datetime,
    note: bool,
) -> int | None:
    """PostgreSQL: store the event rows (`store.event_rows`) of a delivery and,
    if `note`, the time of the delivery, while the connection is live; commit.
    Returns how many events were new, None when the connection was gone."""
    live, stored = db.session.execute(
        _STORE_ON_POSTGRESQL,
        {
            "endpoint_id": endpoint_id,
            "connection_id": connection_id,
            "delivery_id": delivery_id,
            "received_at": now,
            "note": note,
            "revoked": KitConnection.REVOKED,
            "gone": WebhookEndpoint.GONE,
            "event_ids": [row["event_id"] for row in rows],
            "types": [row["type"] for row in rows],
            "occurred": [row["occurred_at"] for row in rows],
            "emails": [row["subscriber_email"] for row in rows],
            "subjects": [row["subject"] for row in rows],
            "data": [row["data"] for row in rows],
        },
    ).one()
    db.session.commit()
    return int(stored) if live else None


def lock_path(engine: Engine) -> Path | None:
    """The lock file of a SQLite database on disk (None in memory)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}.writers.lock")


@contextmanager
def _in_turn(engine: Engine) -> Iterator[None]:
    path = lock_path(engine)
    if path is None or fcntl is None:
        yield
        return
    # A descriptor of its own each time: flock locks belong to an open file,
    # so two threads of one process wait for each other as two processes do.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
