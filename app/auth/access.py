"""Who may see what: every route with a connection id goes through here; and
which of their connections the signed-in user is looking at (the dashboard
opens it, an install selects the account just connected)."""

from __future__ import annotations

from flask import session
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import KitConnection


def own_connection(connection_id: int) -> KitConnection:
    """The signed-in user's connection, or 404 (also for another user's)."""
    return db.one_or_404(
        select(KitConnection).where(
            KitConnection.id == connection_id,
            KitConnection.user_id == current_user.id,
        )
    )


SELECTED = "connection_id"  # the session's key for the connection in view


def remember_selected(connection: KitConnection) -> None:
    # Only a change: a session written on every page is a new cookie (signed,
    # sent) on every response.
    if session.get(SELECTED) != connection.id:
        session[SELECTED] = connection.id


def selected_connection() -> KitConnection | None:
    """The connection the user last looked at, else their first active one."""
    connections = current_user.connections
    wanted = session.get(SELECTED)
    for connection in connections:
        if connection.id == wanted:
            return connection
    active = [c for c in connections if c.status == KitConnection.ACTIVE]
    return (active or connections or [None])[0]
