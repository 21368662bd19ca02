"""The connection's row lock: the one place that knows how each database locks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import KitConnection


@contextmanager
def locked_connection(connection_id: int) -> Iterator[tuple[Session, KitConnection]]:
    """A transaction of its own holding the connection's row lock; commits on a
    normal exit, rolls back on an exception.

    PostgreSQL: `SELECT ... FOR UPDATE`. SQLite has no row locks: `BEGIN
    IMMEDIATE` takes the database's write lock up front (a deferred transaction
    that upgrades later can deadlock and fail with "database is locked").
    Its own session, so it never commits (or is committed by) what the caller
    has pending.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        with Session(engine, expire_on_commit=False) as session, session.begin():
            connection = session.execute(
                select(KitConnection)
                .where(KitConnection.id == connection_id)
                .with_for_update()
            ).scalar_one_or_none()
            if connection is None:
                raise LookupError(f"no Kit connection {connection_id}")
            yield session, connection
        return

    with engine.connect() as raw:
        # Autocommit at the driver, so that our BEGIN IMMEDIATE is the transaction.
        raw = raw.execution_options(isolation_level="AUTOCOMMIT")
        raw.exec_driver_sql("BEGIN IMMEDIATE")
        session = Session(bind=raw, expire_on_commit=False, autoflush=False)
        try:
            connection = session.get(KitConnection, connection_id)
            if connection is None:
                raise LookupError(f"no Kit connection {connection_id}")
            yield session, connection
            session.flush()
            raw.exec_driver_sql("COMMIT")
        except BaseException:
            raw.exec_driver_sql("ROLLBACK")
            raise
        finally:
            session.close()
