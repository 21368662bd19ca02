"""The transaction a delivery is stored in: it holds the write lock from its
first statement, so the liveness check and the insert commit together.

On PostgreSQL the request's own transaction (the check locks the connection's row).
On SQLite `BEGIN IMMEDIATE`, taken in turn: deliveries arrive in bursts (Kit
sends several at once, and retries them together), and SQLite's own wait for
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
from pathlib import Path

from sqlalchemy import Connection, Engine

from app.extensions import db

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
