"""Who may see what: every route with a connection id goes through here."""

from __future__ import annotations

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
