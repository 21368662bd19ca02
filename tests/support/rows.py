"""The stored rows, read and bent behind the app's back: connections and
their tokens, their audit trail, their stored growth days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import ConnectionEvent, GrowthDay, KitConnection, User
from tests.support.accounts import create_user

if TYPE_CHECKING:
    from kit_sandbox import SandboxServer


def stored(app: Flask, connection_id: int = 1) -> KitConnection:
    """The connection row as stored, tokens decrypted while the context is open."""
    with app.app_context():
        row = db.session.get(KitConnection, connection_id)
        assert row is not None
        _ = (row.access_token, row.refresh_token)
        return row


def connections(app: Flask) -> list[KitConnection]:
    """Every stored connection, tokens decrypted while the context is open."""
    with app.app_context():
        rows = db.session.scalars(select(KitConnection)).all()
        for row in rows:
            _ = (row.access_token, row.refresh_token)
        return list(rows)


def event_kinds(app: Flask, connection_id: int = 1) -> list[str]:
    """The connection's audit trail, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(ConnectionEvent.kind)
                .where(ConnectionEvent.connection_id == connection_id)
                .order_by(ConnectionEvent.id)
            )
        )


def set_stored(app: Flask, connection_id: int | None = None, **values: object) -> None:
    """Write `values` straight into the stored connection `connection_id` (all of
    them by default), behind the app's back; Kit's copy is untouched."""
    update_rows(app, KitConnection, connection_id, **values)


def update_rows(app: Flask, model: type, row_id: int | None, **values: object) -> None:
    statement = update(model).values(**values)
    if row_id is not None:
        statement = statement.where(model.id == row_id)  # type: ignore[attr-defined]
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def expire_stored_token(app: Flask, connection_id: int | None = None) -> None:
    """Make our stored copy of the token (of `connection_id`, all by default)
    look expired; Kit's copy is untouched."""
    set_stored(app, connection_id, expires_at=datetime.now(UTC) - timedelta(minutes=1))


def set_expiry(
    app: Flask,
    connection_id: int | None,
    minutes: int,
    status: str = KitConnection.ACTIVE,
) -> None:
    """Give connection `connection_id` (None: every one) a two-hour-old token
    that expires in `minutes`, and `status`."""
    now = datetime.now(UTC)
    set_stored(
        app,
        connection_id,
        expires_at=now + timedelta(minutes=minutes),
        token_issued_at=now - timedelta(hours=2),
        status=status,
    )


def snapshot(app: Flask, kit: SandboxServer, connection_id: int = 1) -> tuple:
    """What a request must not change unasked: how many users and connections
    are stored; the connection's owner, status, tokens and audit trail; and its
    Kit account's subscribers, tags and taggings."""
    row = stored(app, connection_id)
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
        rows = db.session.scalar(select(func.count()).select_from(KitConnection))
    audience = kit.state.account_data(row.kit_account_id)
    return (
        users,
        rows,
        (row.user_id, row.status, row.access_token, row.refresh_token),
        row.expires_at,
        event_kinds(app, connection_id),
        len(audience.subscribers),
        sorted(t.name for t in audience.tags.values()),
        sum(len(t) for t in audience.taggings.values()),
    )


def add_connection(
    app: Flask, email: str = "creator@example.com", **values: Any
) -> int:
    """A connection stored directly (for tests that need no grant at Kit)."""
    user_id = create_user(app, email)
    with app.app_context():
        row = KitConnection(
            user_id=user_id,
            kit_account_id=str(values.pop("kit_account_id", user_id)),
            access_token="not-a-real-token",
            refresh_token="not-a-real-refresh-token",
            expires_at=datetime.now(UTC) + timedelta(hours=2),
            **values,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def growth_days(app: Flask, connection_id: int = 1) -> dict[date, tuple[int, ...]]:
    """The connection's stored days: day -> (subscribers, new subscribers,
    cancellations, net new subscribers)."""
    with app.app_context():
        rows = db.session.scalars(
            select(GrowthDay).where(GrowthDay.connection_id == connection_id)
        ).all()
        return {
            row.day: (
                row.subscribers,
                row.new_subscribers,
                row.cancellations,
                row.net_new_subscribers,
            )
            for row in rows
        }


def delete_growth_days(
    app: Flask, connection_id: int = 1, days: list[date] | None = None
) -> None:
    """Delete stored days of the connection (all by default), behind the app's
    back: a gap, as if the backfill had not run for them."""
    statement = delete(GrowthDay).where(GrowthDay.connection_id == connection_id)
    if days is not None:
        statement = statement.where(GrowthDay.day.in_(list(days)))
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def add_growth_days(app: Flask, connection_id: int, days: list[date]) -> None:
    """Store figures for these days of the connection, as the sync would."""
    with app.app_context():
        db.session.add_all(
            GrowthDay(
                connection_id=connection_id,
                day=day,
                subscribers=100 + n,
                new_subscribers=2,
                cancellations=1,
                net_new_subscribers=1,
            )
            for n, day in enumerate(days)
        )
        db.session.commit()


def add_history(
    app: Flask, connection_id: int, kind: str, at: datetime, reason: str = ""
) -> None:
    """An entry of the connection's audit trail, made `at`."""
    with app.app_context():
        db.session.add(
            ConnectionEvent(
                connection_id=connection_id, kind=kind, reason=reason, created_at=at
            )
        )
        db.session.commit()
